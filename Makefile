# Two commands for a newcomer: `make run` and `make test`. Both build the virtualenv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean cjk-font

# Retirement certificates embed a Chinese TrueType font (api/certificates.py); without one they fall back to a
# font the PDF viewer must supply. Install Debian's fonts-wqy-zenhei when it is missing and we may.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
cjk-font:
	@test -f $(CJK_FONT) -o -n "$$CARBONX_CERTIFICATE_FONT" || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y -qq fonts-wqy-zenhei >/dev/null || \
	      { apt-get update -qq && apt-get install -y -qq fonts-wqy-zenhei >/dev/null; } || \
	      echo "note: could not install fonts-wqy-zenhei"; \
	  else echo "note: install fonts-wqy-zenhei (or set CARBONX_CERTIFICATE_FONT) for embedded certificate fonts"; fi; }

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

test: lint typecheck cjk-font
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m matching_engine.bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
