# Two commands on a fresh machine: `make demo` and `make test`. Everything installs into ./.venv
# (and Meltano's plugins into ./.meltano); nothing is installed globally.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: help venv test lint demo bench clean

help:
	@echo "make demo   run the whole job end to end against the embedded sandboxes"
	@echo "make test   install what the tests need and run the whole suite"
	@echo "make lint   ruff over the repository"
	@echo "make bench  print the benchmark tables (bench/RESULTS.md explains them)"

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed (set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Reinstall when a requirement, the lock or a package definition changes.
$(STAMP): $(BIN)/python requirements-dev.txt constraints.txt tap-sapb1/pyproject.toml \
          target-hubspot-finance/pyproject.toml tests/sandbox/pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt \
	    -e ./tap-sapb1 -e ./target-hubspot-finance -e ./tests/sandbox
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

# BENCH_ARGS: e.g. --quick, or --sizes 1000,10000,100000 (see bench/RESULTS.md)
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .meltano .demo .bench
