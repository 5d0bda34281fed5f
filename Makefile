# bmsbench — convenience wrapper around CMake.
#   make run    run the scenario suite in simulated time (build/reports/junit.xml)
#   make test   build and run every test through ctest
#   make bench  print the simulator speed figures
#   make coverage  build with --coverage in build-coverage, run every test, write
#               gcovr HTML (build-coverage/coverage/index.html) and Cobertura XML
#               (build-coverage/coverage.xml); fails below 90 % firmware line coverage
BUILD ?= build
PRESET_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps configure build run test bench coverage clean

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

COV_BUILD ?= build-coverage
COV_FILTERS = --filter 'firmware/' --filter 'emulators/' --filter 'harness/' --filter 'sim/'
FW_LINE_MIN ?= 90
# Wall-clock and long randomized runs add minutes at -O0 and no firmware
# lines the scenario suite does not already reach: `make test` runs them.
COV_SKIP ?= ^(rig\.qemu|cli\.live_gateway_e2e|cli\.live_record|cli\.panel_live|fuzz\.ci\..*)$$

# Stale counters from an earlier run would inflate the figures: cleared first.
# The report is written even when a test fails; the target then fails too.
coverage: deps
	@cmake -S . -B $(COV_BUILD) -DCMAKE_BUILD_TYPE=Debug -DBMS_COVERAGE=ON -DBMS_RIG=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(COV_BUILD) -j $(JOBS)
	@find $(COV_BUILD) -name '*.gcda' -delete
	@mkdir -p $(COV_BUILD)/coverage
	@cd $(COV_BUILD) && ctest --output-on-failure -j $(JOBS) -E '$(COV_SKIP)'; echo $$? >coverage/ctest.rc
	@gcovr -r . --object-directory $(COV_BUILD) $(COV_FILTERS) --print-summary \
		--html-details $(COV_BUILD)/coverage/index.html --xml $(COV_BUILD)/coverage.xml
	@echo "coverage: $(COV_BUILD)/coverage/index.html, $(COV_BUILD)/coverage.xml"
	@echo "firmware line coverage (minimum $(FW_LINE_MIN) %):"
	@gcovr -r . --object-directory $(COV_BUILD) --filter 'firmware/' --print-summary \
		--fail-under-line $(FW_LINE_MIN) -o $(COV_BUILD)/coverage/firmware.txt
	@test "$$(cat $(COV_BUILD)/coverage/ctest.rc)" = 0 || { echo "coverage: tests failed" >&2; exit 1; }

clean:
	rm -rf $(BUILD)
