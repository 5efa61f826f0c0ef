# Shared-library builds (-DBUILD_SHARED_LIBS=ON). Static stays the default.
#
# SONAME rule: libatomix_*.so.<major> (SOVERSION = the project's major
# version), libatomix_*.so.<major>.<minor>.<patch> the file. From 1.0 on an
# incompatible ABI change raises the major version, hence the SONAME. During
# 0.x the SONAME is .so.0 and any 0.y release may change the ABI, as the
# CMake package's SameMinorVersion rule says: rebuild against each 0.y.
set(ATOMIX_SOVERSION ${PROJECT_VERSION_MAJOR})

# Compiles an SDK library with hidden symbols, exporting only what
# include/atomix marks ATOMIX_EXPORT (include/atomix/export.h).
function(atomix_hide_internals target)
  if(BUILD_SHARED_LIBS)
    set_target_properties(${target} PROPERTIES
      CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  endif()
endfunction()

if(BUILD_SHARED_LIBS)
  # Installed programs (atomix-broker) find the installed libraries.
  if(NOT DEFINED CMAKE_INSTALL_RPATH)
    set(CMAKE_INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
  endif()
  # The tests reach into the SDK's internals, which a shared SDK hides.
  if(ATOMIX_BUILD_TESTS)
    message(FATAL_ERROR "BUILD_SHARED_LIBS=ON hides the SDK internals that the "
            "tests use: add -DATOMIX_BUILD_TESTS=OFF")
  endif()
endif()
