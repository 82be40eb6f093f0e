# `make run` and `make test` create .venv from pyproject.toml on first use, then run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test screenshots lint format clean

run: $(VENV)/.installed
	$(BIN)/polling serve

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

# The browser suite writes its screenshots to build/screenshots/; this copies them over the
# README's (docs/screenshots/), on purpose: review them and commit what changed.
screenshots: $(VENV)/.installed-test
	rm -rf build/screenshots
	POLLING_REQUIRE_SERVICES=1 $(BIN)/pytest tests/browser -q
	mkdir -p docs/screenshots
	cp build/screenshots/*.png docs/screenshots/
	-git status --short docs/screenshots

lint: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build
