# tuchuan — `make run` streams the default source, `make test` runs the tests.
# Deno comes from the npm package `deno`, pinned here and installed into .tools/. That Deno is
# the one used, whatever `deno` may be on PATH (say DENO=deno to choose another on purpose).
DENO_VERSION := 2.9.6
TOOLS        := .tools
DENO         ?= $(TOOLS)/node_modules/.bin/deno
ARGS         ?=
BINARY       := dist/tuchuan
VM_DIR       ?= $(TOOLS)/camera-vm
COMPILE_INCLUDES := --include src/image/encode_worker.ts --include fixtures/testcard.mjpeg
# A 2 MiB young generation: every viewer's connection makes short-lived garbage, and V8's default
# lets the heap grow to ~70 MB of mostly empty space under connection churn (RSS 134 MB after
# 12,000 connects, 79 MB with this flag, for ~10 % more CPU at 200 viewers; see BENCHMARKS.md).
V8_FLAGS     := --max-semi-space-size=2,--expose-gc
# `deno run` checks for a newer Deno in the background (a request to dl.deno.land at most once a
# day, and 2-3 MB of RSS for its client): no business of a camera board. The binary never does.
export DENO_NO_UPDATE_CHECK := 1
# Tests that build the binary or boot the camera VM have their own targets.
TEST_IGNORE  := --ignore=tests/binary,tests/camera

.PHONY: run test test-binary test-camera camera-vm check fmt lint bench bench-quick binary \
  fixtures deno clean help

help:
	@echo "make run          stream the default source on http://127.0.0.1:8080 (ARGS='--flag value')"
	@echo "make test         run the tests (browsers, real clients, fuzz; no VM, no compile)"
	@echo "make test-camera  the camera tests against a real V4L2 device (vivid in a qemu guest)"
	@echo "make test-binary  build the binary with deno compile and test it"
	@echo "make check        deno fmt --check, deno lint, deno check, then the tests"
	@echo "make bench        the benchmark: tuchuan vs the seed's Flask server"
	@echo "make binary       one executable in $(BINARY) (deno compile; DENORT_BIN=... offline)"
	@echo "make fixtures     re-record fixtures/ with tuchuan record"

deno: $(DENO)

$(TOOLS)/node_modules/.bin/deno:
	@command -v npm >/dev/null || { echo "npm is needed to install Deno (apt-get install -y npm)"; exit 1; }
	npm install --prefix $(TOOLS) --no-save --no-audit --no-fund deno@$(DENO_VERSION)
	@$@ --version | head -n 1

# Says so when the Deno in use is not the pinned version (DENO=... chose another one).
version-check: $(DENO)
	@v=$$($(DENO) --version | head -n 1 | awk '{print $$2}'); \
	  [ "$$v" = "$(DENO_VERSION)" ] || echo "note: $(DENO) is Deno $$v, not the pinned $(DENO_VERSION)"

run: version-check
	$(DENO) run -A --v8-flags=$(V8_FLAGS) main.ts $(ARGS)

test: version-check
	$(DENO) test -A $(TEST_IGNORE) tests/

test-binary: version-check
	$(DENO) test -A tests/binary/

camera-vm:
	bash tests/camera/vm/setup.sh $(VM_DIR)

test-camera: version-check camera-vm
	TUCHUAN_VM_DIR=$(VM_DIR) $(DENO) test -A tests/camera/

check: version-check
	$(DENO) fmt --check
	$(DENO) lint
	$(DENO) check main.ts src/ tests/ bench/
	$(DENO) test -A $(TEST_IGNORE) tests/

fmt: $(DENO)
	$(DENO) fmt

bench: version-check
	$(DENO) run -A bench/main.ts $(ARGS)

bench-quick: version-check
	$(DENO) run -A bench/main.ts --quick $(ARGS)

# deno compile downloads its runtime (denort) unless DENORT_BIN points at one.
binary: version-check
	@mkdir -p dist
	$(DENO) compile -A --v8-flags=$(V8_FLAGS) $(COMPILE_INCLUDES) --output $(BINARY) main.ts
	@echo "built $(BINARY)"

fixtures: version-check
	$(DENO) run -A main.ts record --source testsrc --size 320x240 --fps 10 --frames 30 \
	  --quality 60 --out fixtures/testcard.mjpeg
	$(DENO) run -A fixtures/make_damaged.ts

clean:
	rm -rf dist
