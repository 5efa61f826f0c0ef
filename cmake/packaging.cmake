# Native packaging, included by the top-level CMakeLists.txt when install
# rules are on: the pkg-config file, the systemd unit and the .deb (CPack).
#   cmake --install build            headers, libraries, CMake package, atomix.pc
#   cd build && cpack -G DEB         atomix_<version>_amd64.deb (`make package`)

# atomix.pc. A static SDK needs every library it uses on the link line, so
# everything is in Requires; a shared one needs only what the public headers
# use (protobuf, absl status and strings), the rest is Requires.private.
set(ATOMIX_PC_PUBLIC "protobuf absl_status absl_statusor absl_strings")
set(ATOMIX_PC_PRIVATE "grpc++ absl_synchronization absl_flat_hash_map")
if(BUILD_SHARED_LIBS)
  set(ATOMIX_PC_REQUIRES "${ATOMIX_PC_PUBLIC}")
  set(ATOMIX_PC_REQUIRES_PRIVATE "${ATOMIX_PC_PRIVATE}")
else()
  set(ATOMIX_PC_REQUIRES "${ATOMIX_PC_PRIVATE} ${ATOMIX_PC_PUBLIC}")
  set(ATOMIX_PC_REQUIRES_PRIVATE "")
endif()
# Written at install time, so that prefix= is where it is installed
# (cmake --install --prefix P, or /usr in the .deb).
install(CODE "
  set(PROJECT_VERSION \"${PROJECT_VERSION}\")
  set(ATOMIX_PC_REQUIRES \"${ATOMIX_PC_REQUIRES}\")
  set(ATOMIX_PC_REQUIRES_PRIVATE \"${ATOMIX_PC_REQUIRES_PRIVATE}\")
  set(ATOMIX_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  set(ATOMIX_PC_LIBDIR \"\\\${prefix}/${CMAKE_INSTALL_LIBDIR}\")
  set(ATOMIX_PC_INCLUDEDIR \"\\\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}\")
  configure_file(\"${PROJECT_SOURCE_DIR}/cmake/atomix.pc.in\"
                 \"${PROJECT_BINARY_DIR}/pkgconfig/atomix.pc\" @ONLY)
")
install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/atomix.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The service: only in the package (component "service", left out of a plain
# `cmake --install`, whose prefix is not the system's root).
if(ATOMIX_BUILD_BROKER)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/atomix-broker.service
          DESTINATION /lib/systemd/system COMPONENT service EXCLUDE_FROM_ALL)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/atomix-broker.default
          DESTINATION /etc/default RENAME atomix-broker COMPONENT service EXCLUDE_FROM_ALL)
endif()

# The .deb: one package with every install component (the CLI's too, when
# cli/ defines it), for /usr.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME atomix)
set(CPACK_PACKAGE_VENDOR atomix)
set(CPACK_PACKAGE_CONTACT "atomix maintainers <atomix@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "distributed coordination primitives: broker, CLI and C++ SDK")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
# Shared-library dependencies come from dpkg-shlibdeps (dpkg-dev); the
# maintainer scripts need adduser. The headers need the -dev packages.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libgrpc++-dev, libprotobuf-dev, libabsl-dev, pkg-config")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/postinst
    ${PROJECT_SOURCE_DIR}/packaging/prerm
    ${PROJECT_SOURCE_DIR}/packaging/postrm
    ${PROJECT_SOURCE_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# cpack installs what is built, and builds nothing itself (its preinstall
# step would otherwise build `all`, the test suite included): `make package`
# builds the target atomix-installed first.
if(NOT DEFINED CMAKE_SKIP_INSTALL_ALL_DEPENDENCY)
  set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
endif()
# Every component and installed target (cli/'s included), read once every
# directory is added.
function(atomix_include_cpack)
  add_custom_target(atomix-installed)
  add_dependencies(atomix-installed atomix_proto atomix_sdk_core atomix_sdk)
  foreach(target atomix-broker atomix)
    if(TARGET ${target})
      add_dependencies(atomix-installed ${target})
    endif()
  endforeach()
  get_cmake_property(CPACK_COMPONENTS_ALL COMPONENTS)
  include(CPack)
endfunction()
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL atomix_include_cpack)
