# Two commands for a newcomer: `make run` and `make test`. Both build the virtualenv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean

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

test: lint typecheck
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m matching_engine.bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
