# Thin wrapper over CMake. `make run` and `make test` install what is
# missing, build, and then serve or test. `make bench` measures atomix
# beside Redis and etcd (bench/compare; BENCH_ARGS=--quick for a short run).
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= 2
LISTEN ?= 127.0.0.1:5679
HTTP_LISTEN ?= 127.0.0.1:5680
DATA_DIR ?= ./data
BENCH_ARGS ?=
FUZZ_SECONDS ?= 60

.PHONY: all deps configure build run test test-sanitize test-fuzz bench package clean

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: configure
	cmake --build $(BUILD_DIR) -j$(JOBS)

run: build
	exec $(BUILD_DIR)/broker-sim/atomix-broker --listen $(LISTEN) --http-listen $(HTTP_LISTEN) --store disk --data-dir $(DATA_DIR)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS) --timeout 600
	$(MAKE) test-fuzz

# Each libFuzzer target for FUZZ_SECONDS from its seed corpus, two at a
# time, in build-fuzz (clang-14, ASan + UBSan; incremental, through ccache).
# FUZZ_SECONDS=0 skips it.
test-fuzz: deps
	@if [ "$(FUZZ_SECONDS)" != 0 ]; then bash fuzz/run.sh $(FUZZ_SECONDS); fi

# The suite again with AddressSanitizer and UndefinedBehaviorSanitizer,
# but for the packaging tests (label package: a .deb of sanitized binaries
# proves nothing the Release pass does not).
test-sanitize: deps
	cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DATOMIX_SANITIZE=ON
	cmake --build build-sanitize -j$(JOBS)
	cd build-sanitize && ctest --output-on-failure -j$(JOBS) --timeout 600 -LE package

# Only the two binaries bench/compare runs, not the test suite.
bench: configure
	@bash scripts/install-deps.sh bench
	cmake --build $(BUILD_DIR) -j$(JOBS) --target atomix-broker atomix-bench
	bench/compare --build $(BUILD_DIR) $(BENCH_ARGS)

# The .deb, $(BUILD_DIR)/atomix_<version>_amd64.deb: broker, CLI, SDK,
# atomix.pc and the systemd unit (docs/operations.md, "Packages"). Builds
# only what the package installs.
package: configure
	cmake --build $(BUILD_DIR) -j$(JOBS) --target atomix-installed
	cd $(BUILD_DIR) && cpack -G DEB

clean:
	rm -rf $(BUILD_DIR) build-sanitize build-fuzz
