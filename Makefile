# yure — the whole interface: make run, make test, make lint, make bench, make data.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# One stamp per install: `make run` installs only what running needs; the other targets
# install the dev tools too (which include everything running needs).
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed-dev

.PHONY: run test lint typecheck bench data clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/yure serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest --cov --cov-report=term

# `make bench ONLY=nchan,scale` runs some benchmarks and merges their keys into the results.
bench: $(STAMP)
	$(BIN)/python -m bench.run $(if $(ONLY),--only $(ONLY))

# The code tables need JMA's code tables (the reference snapshot); without it the
# committed data/*.csv are kept. The boundaries are always rebuilt (pinned wheel).
REFERENCE ?= ../shared/reference
data: $(STAMP)
	if [ -d "$(REFERENCE)" ]; then $(BIN)/python scripts/build_tables.py "$(REFERENCE)"; \
	else echo "make data: no $(REFERENCE); keeping data/*.csv"; fi
	$(BIN)/python scripts/build_data.py
	if [ -d "$(REFERENCE)" ]; then $(BIN)/python scripts/build_coast.py "$(REFERENCE)"; \
	else echo "make data: no $(REFERENCE); keeping data/tsunami_coast.json"; fi

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .pytest_cache .ruff_cache .coverage
