# tuchuan — `make run` streams the default source, `make test` runs every test.
# Deno comes from the npm package `deno` (pinned), installed into .tools/ when not on PATH.
DENO_VERSION := 2.9.6
TOOLS        := .tools
LOCAL_DENO   := $(TOOLS)/node_modules/.bin/deno
DENO         := $(shell command -v deno 2>/dev/null || echo $(LOCAL_DENO))
ARGS         ?=
BINARY       := dist/tuchuan
COMPILE_INCLUDES := --include src/encode_worker.ts --include fixtures/testcard.mjpeg
# A 2 MiB young generation: every viewer's connection makes short-lived garbage, and V8's default
# lets the heap grow to ~70 MB of mostly empty space under connection churn (RSS 134 MB after
# 12,000 connects, 79 MB with this flag, for ~10 % more CPU at 200 viewers; see BENCHMARKS.md).
V8_FLAGS     := --max-semi-space-size=2

.PHONY: run test check fmt lint bench bench-quick binary fixtures deno clean help

help:
	@echo "make run      stream the default source on http://127.0.0.1:8080 (ARGS='--flag value')"
	@echo "make test     run every test"
	@echo "make check    deno fmt --check, deno lint, deno check, then the tests"
	@echo "make bench    the benchmark: tuchuan vs the seed's Flask server"
	@echo "make binary   one executable in $(BINARY) (deno compile; DENORT_BIN=... offline)"
	@echo "make fixtures re-record fixtures/ with tuchuan record"

deno: $(DENO)

$(LOCAL_DENO):
	@command -v npm >/dev/null || { echo "npm is needed to install Deno (apt-get install -y npm)"; exit 1; }
	npm install --prefix $(TOOLS) --no-save --no-audit --no-fund deno@$(DENO_VERSION)
	@$(LOCAL_DENO) --version | head -n 1

run: $(DENO)
	$(DENO) run -A --v8-flags=$(V8_FLAGS) main.ts $(ARGS)

test: $(DENO)
	$(DENO) test -A tests/

check: $(DENO)
	$(DENO) fmt --check
	$(DENO) lint
	$(DENO) check main.ts src/ tests/ bench/
	$(DENO) test -A tests/

fmt: $(DENO)
	$(DENO) fmt

bench: $(DENO)
	$(DENO) run -A bench/main.ts $(ARGS)

bench-quick: $(DENO)
	$(DENO) run -A bench/main.ts --quick $(ARGS)

# deno compile downloads its runtime (denort) unless DENORT_BIN points at one.
binary: $(DENO)
	@mkdir -p dist
	$(DENO) compile -A --v8-flags=$(V8_FLAGS) $(COMPILE_INCLUDES) --output $(BINARY) main.ts
	@echo "built $(BINARY)"

fixtures: $(DENO)
	$(DENO) run -A main.ts record --source testsrc --size 320x240 --fps 10 --frames 30 \
	  --quality 60 --out fixtures/testcard.mjpeg
	$(DENO) run -A fixtures/make_damaged.ts

clean:
	rm -rf dist
