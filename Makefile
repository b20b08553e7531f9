# Two commands for a newcomer: `make run` and `make test`. Both build the virtualenv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The demo keeps the market open around the clock (production follows CARBONX_MARKET_HOURS).
run: export CARBONX_MARKET_ALWAYS_OPEN ?= true
run: $(STAMP)
	$(BIN)/python -m api migrate
	$(BIN)/python -m api demo-data
	$(BIN)/python -m api serve

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The end-to-end tests drive Debian's Chromium headless (with a Chinese font for the screenshots); as root the
# packages are installed when missing, otherwise those tests skip (and fail under CARBONX_REQUIRE_SERVICES=1).
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/truetype/wqy ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get install -y -q chromium fonts-wqy-zenhei || { apt-get update -q && apt-get install -y -q chromium fonts-wqy-zenhei; }; \
		else echo "not root: Chromium is not installed, the end-to-end tests will skip"; fi; \
	fi

test: lint typecheck browser
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m matching_engine.bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
