# Every target bootstraps .venv from the pinned lock files; nothing is installed by hand.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: the runtime (requirements.lock: what `make demo` and `make sandbox` need) and,
# on top, the development tools (requirements-dev.lock: tests, linters). Both hash-checked.
RUNTIME := $(VENV)/.runtime-installed
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint bench sandbox venv clean lock dist chromium

venv: $(STAMP)

$(RUNTIME): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(STAMP): $(RUNTIME) requirements-dev.lock
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

demo: $(RUNTIME)
	$(BIN)/orderbridge demo

sandbox: $(RUNTIME)
	$(BIN)/orderbridge sandbox --info-file sandbox-info.json

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src

# domain/ is pure and must stay at 100% branch coverage (the rest is measured in use).
COVERAGE_GATE := --cov=orderbridge.domain --cov-branch --cov-fail-under=100 --cov-report=term-missing:skip-covered

# The dashboard's browser tests need Debian's chromium (the `chromium` target).
test: $(STAMP) lint chromium
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(COVERAGE_GATE) tests

test-fast: $(STAMP)
	$(BIN)/python -m pytest -x -q tests/unit

bench: $(STAMP)
	$(BIN)/python -m bench

# Regenerate both locks from pyproject's ranges, with hashes (run by a developer, committed).
# Pins already in the locks are kept (LOCK_UPGRADE=1 takes the newest allowed instead).
LOCK_FLAGS := --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
	--no-emit-find-links --build-deps-for editable $(if $(LOCK_UPGRADE),--upgrade,)
lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install --quiet "pip-tools==7.6.2"
	.lockvenv/bin/pip-compile $(LOCK_FLAGS) -o requirements.lock pyproject.toml
	.lockvenv/bin/pip-compile $(LOCK_FLAGS) --extra dev -c requirements.lock -o requirements-dev.lock pyproject.toml
	rm -rf .lockvenv

# The release: a wheel and an sdist in dist/ (the wheel test installs it outside the tree).
dist: $(STAMP)
	rm -rf dist build
	$(BIN)/python -m build --no-isolation --outdir dist .

# The browser of the dashboard's end-to-end tests: Debian's chromium (a registry package, not a
# browser download). Installed with apt-get when missing; anywhere else, a clear instruction.
chromium:
	@command -v chromium >/dev/null 2>&1 && exit 0; \
	if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "chromium is missing: installing Debian's package (apt-get install chromium)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
		|| { echo "error: apt-get could not install chromium (is a Debian mirror reachable?)" >&2; exit 1; }; \
	else \
		echo "error: the browser tests need chromium on PATH. On Debian/Ubuntu: sudo apt-get install chromium;" \
			"elsewhere install Chromium or Chrome and put it on PATH as 'chromium'" >&2; exit 1; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dist build
