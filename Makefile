# The front door: `make demo` and `make test` install what is missing, build, and run.
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?=

FUZZ_SECONDS ?= 60

.PHONY: all deps deps-demo build test stress demo bench format format-check clean sanitize package \
	package-test fuzz

all: build

deps:
	@bash scripts/install-deps.sh

# What building evalkeep needs; `deps` adds what the tests, packaging and fuzzing need.
deps-demo:
	@bash scripts/install-deps.sh demo

$(BUILD)/CMakeCache.txt: | deps-demo
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

# The reliability tests' long mode (30 kills, a minute of contention, ...), then every fuzz
# target for STRESS_FUZZ_SECONDS; `make test` runs their short mode, CI fuzzes 60 s a target.
STRESS_FUZZ_SECONDS ?= 300
stress: build
	cd $(BUILD) && EVALKEEP_STRESS=1 ctest --output-on-failure -R '^reliability:' --timeout 1800
	$(MAKE) fuzz FUZZ_SECONDS=$(STRESS_FUZZ_SECONDS)

# The demo builds only what it runs: the binary and the stand-in model server.
demo: deps-demo $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target evalkeep evalkeep-standin
	bash scripts/demo.sh $(BUILD)/evalkeep

# Benchmarks measure an optimized build of their own.
bench: deps
	cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release
	cmake --build build-release -j $(JOBS) --target evalkeep evalkeep-standin
	bash bench/run.sh build-release/evalkeep
	bash bench/run_bench.sh build-release/evalkeep
	bash bench/git_bench.sh build-release/evalkeep
	bash bench/tools_bench.sh build-release/evalkeep
	bash bench/rate_limit.sh build-release/evalkeep

# A Debian package of the binary, its man page and shell completions (needs dpkg-dev).
package: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target evalkeep evalkeep_docs evalkeep-standin
	cd $(BUILD) && cpack -G DEB

# Installs the package, checks it and runs the demo against /usr/bin/evalkeep, then removes it.
package-test:
	bash scripts/package-test.sh $(BUILD)

# evalkeep against promptfoo (docs/BENCHMARKS.md): installs promptfoo into bench/peer/ with npm,
# then runs both in a network namespace that has only loopback.
.PHONY: peer-bench
peer-bench: deps
	cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release
	cmake --build build-release -j $(JOBS) --target evalkeep evalkeep-standin
	bash bench/peer.sh build-release/evalkeep

sanitize:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DEVALKEEP_SANITIZE=address,undefined"

# libFuzzer targets (fuzz/), built with clang in a folder of their own, FUZZ_SECONDS each.
fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-16 \
	  -DEVALKEEP_FUZZ=ON -DEVALKEEP_TESTS=OFF
	cmake --build build-fuzz -j $(JOBS) --target fuzz_targets
	bash fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

format:
	cmake --build $(BUILD) --target format

format-check:
	cmake --build $(BUILD) --target format-check

clean:
	rm -rf $(BUILD) build-asan build-release build-fuzz
