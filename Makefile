# The two commands of the quick start: `make demo` and `make test`.
# Each creates .venv and installs what it needs by itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test lint typecheck pytest peers bench clean

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3 -m venv is missing: installing python3-venv with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; \
	  rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PIP) install -e '.[test]'
	@touch $@

demo: $(VENV)/.installed
	@mkdir -p reports
	$(BIN)/dicom-harness run --peer builtin --jobs 4 --json reports/demo.json --junit reports/demo.junit.xml
	@echo "wrote reports/demo.json and reports/demo.junit.xml"

peers:
	peers/install.sh

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

pytest: $(VENV)/.installed-test peers
	$(BIN)/pytest -n 2

test: lint typecheck pytest

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/codec.py
	$(BIN)/python benchmarks/plugin.py
	$(BIN)/python benchmarks/fuzz.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
