# Every target bootstraps .venv from the pinned lock file; nothing is installed by hand.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint bench sandbox venv clean lock browser

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/orderbridge demo

sandbox: $(STAMP)
	$(BIN)/orderbridge sandbox --info-file sandbox-info.json

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src

# domain/ is pure and must stay at 100% branch coverage (the rest is measured in use).
COVERAGE_GATE := --cov=orderbridge.domain --cov-branch --cov-fail-under=100 --cov-report=term-missing:skip-covered

# The dashboard's browser tests drive Debian's Chromium (headless, through Playwright).
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      echo "installing Debian's chromium for the dashboard's browser tests"; \
	      apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; \
	    else echo "error: the dashboard's browser tests need Chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

test: $(STAMP) lint browser
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(COVERAGE_GATE) tests

test-fast: $(STAMP)
	$(BIN)/python -m pytest -x -q tests/unit

bench: $(STAMP)
	$(BIN)/python -m bench

# Regenerate the lock from pyproject's ranges (run by a developer, committed).
lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install --quiet -e ".[dev]"
	.lockvenv/bin/pip freeze --exclude-editable | grep -v '^orderbridge' > requirements.lock
	rm -rf .lockvenv

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
