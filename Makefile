# What a user types. Each target installs the Debian packages it needs first.
#   make            release build: build/tollgate
#   make test       sanitizer build, unit tests (ctest), then end-to-end tests (pytest)
#   make demo       the field reports against the built-in platform, then their fixes
#   make bench      micro-benchmarks and the peer comparisons in bench/
#   make fuzz       every libFuzzer target for FUZZ_TIME seconds (default 60)
#   make format / format-check

SHELL     := /bin/bash
MAKEFLAGS += --no-print-directory
JOBS      ?= $(shell nproc)
FUZZ_TIME ?= 60
PYTHON    ?= /usr/bin/python3
SOURCES    = $(shell find src tests/unit bench fuzz -name '*.[ch]' 2>/dev/null)

.PHONY: all build test unit e2e demo bench fuzz format format-check clean deps

all: build

build:
	@scripts/deps.sh build
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DTG_TESTS=OFF >/dev/null
	@cmake --build build -j $(JOBS)

build-test/.built: FORCE
	@scripts/deps.sh build test
	@cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DTG_SANITIZE=ON -DTG_BENCH=OFF >/dev/null
	@cmake --build build-test -j $(JOBS)
	@touch $@

unit: build-test/.built
	@cd build-test && ctest --output-on-failure -j $(JOBS) | tail -n 30

e2e: build-test/.built
	@TOLLGATE_BIN=$(CURDIR)/build-test/tollgate $(PYTHON) -m pytest -q tests/e2e 2>&1 | tail -n 30; \
	 exit $${PIPESTATUS[0]}

test: build-test/.built
	@set -o pipefail; \
	 echo "== unit tests (ctest)"; \
	 (cd build-test && ctest --output-on-failure -j $(JOBS)) > build-test/ctest.log 2>&1; u=$$?; \
	 if [ $$u -ne 0 ]; then grep -v '^ *[0-9]*/[0-9]* Test.*Passed' build-test/ctest.log | tail -n 80; fi; \
	 grep -E 'tests passed|tests failed' build-test/ctest.log || true; \
	 echo "== end-to-end tests (pytest)"; \
	 TOLLGATE_BIN=$(CURDIR)/build-test/tollgate $(PYTHON) -m pytest -q tests/e2e > build-test/pytest.log 2>&1; p=$$?; \
	 if [ $$p -ne 0 ]; then tail -n 80 build-test/pytest.log; else tail -n 1 build-test/pytest.log; fi; \
	 if [ $$u -ne 0 ] || [ $$p -ne 0 ]; then echo "make test: FAILED (ctest=$$u pytest=$$p)"; exit 1; fi; \
	 echo "make test: all passed"

demo:
	@scripts/deps.sh build test
	@echo "demo: building build/tollgate (release)"
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DTG_TESTS=OFF >/dev/null
	@set -o pipefail; cmake --build build -j $(JOBS) 2>&1 | { grep -vE '^\[ *[0-9]+%\]' || true; }
	@PYTHON=$(PYTHON) scripts/demo.sh

bench: build
	@scripts/deps.sh build bench
	@bench/run-all.sh

fuzz:
	@scripts/deps.sh build fuzz
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTG_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@fuzz/run.sh build-fuzz $(FUZZ_TIME)

format:
	@clang-format -i $(SOURCES)

format-check:
	@clang-format --dry-run --Werror $(SOURCES) && echo "format-check: clean"

clean:
	rm -rf build build-test build-fuzz

FORCE:
