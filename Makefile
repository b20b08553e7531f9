# Two commands for a newcomer: `make run` and `make test`. Both build the virtualenv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench writer-bench clean cjk-font browser

# Debian packages, installed when missing and we are root (else a note): a Chinese TrueType font that retirement
# certificates embed (api/certificates.py; without it they fall back to a font the PDF viewer supplies, or set
# CARBONX_CERTIFICATE_FONT), and Chromium for the end-to-end tests (never a downloaded browser; without it those
# tests skip, and fail under CARBONX_REQUIRE_SERVICES=1).
define apt_install
	@if [ ! -e $(1) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -qq $(2) >/dev/null || { apt-get update -qq && apt-get install -y -qq $(2) >/dev/null; } \
	      || echo "note: could not install $(2)"; \
	  else echo "note: not root: install Debian's $(2) yourself"; fi; \
	fi
endef

cjk-font:
	$(call apt_install,/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc,fonts-wqy-zenhei)

browser:
	$(call apt_install,/usr/bin/chromium,chromium)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The demo keeps the market open around the clock (production follows CARBONX_MARKET_HOURS).
run: export CARBONX_MARKET_ALWAYS_OPEN ?= true
run: $(STAMP) cjk-font
	$(BIN)/python -m api migrate
	$(BIN)/python -m api demo-data
	$(BIN)/python -m api serve

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck cjk-font browser
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m matching_engine.bench

# The writer of one book without HTTP, on the database of CARBONX_DATABASE_URL (stop the server first); the load
# generator needs a running server: see README's Benchmarks (python -m bench.loadgen --url ...).
writer-bench: $(STAMP)
	$(BIN)/python -m bench.writer_bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
