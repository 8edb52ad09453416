# One command for everything CI checks: `make check` (lint, then the tests), `make lint` (lint only).
# Uses the project venv (.venv, made as the README says); VENV=... to point elsewhere.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: check lint

lint:
	$(BIN)/ruff check
	$(BIN)/ruff format --check
	$(BIN)/mypy
	$(BIN)/lint-imports

check: lint
	$(BIN)/python -m pytest -q
