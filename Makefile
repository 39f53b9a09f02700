# glassbox: `make demo` and `make test` do all set-up themselves (scripts/setup), then build in build/.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all setup configure build test demo bench clean

all: build

setup:
	scripts/setup

configure: setup
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: configure
	cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# The demo builds only what it runs: the library and the glassbox tool.
demo: configure
	cmake --build $(BUILD) -j$(JOBS) --target glassbox-cli
	scripts/demo $(BUILD)/glassbox

bench: build
	bench/run-train-bench $(BUILD)/glassbox

clean:
	rm -rf $(BUILD)
