# bmsbench — convenience wrapper around CMake.
#   make run    run the scenario suite in simulated time (build/reports/junit.xml)
#   make test   build and run every test through ctest
#   make bench  print the simulator speed figures
BUILD ?= build
PRESET_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps configure build run test bench clean

all: build

deps:
	@sh ci/install-deps.sh

$(BUILD)/CMakeCache.txt: | deps
	@cmake -S . -B $(BUILD) $(PRESET_FLAGS) $(CMAKE_FLAGS) >/dev/null

configure: deps $(BUILD)/CMakeCache.txt

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@$(BUILD)/bin/bmsbench run --junit $(BUILD)/reports/junit.xml scenarios

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	@$(BUILD)/bin/bmsbench bench

clean:
	rm -rf $(BUILD)
