# arbx: two commands for a fresh machine (Python 3.11+ and make present).
#   make run    install everything, then start the Dagster UI + daemon on 127.0.0.1:3000 in sim mode
#               (another port: make run PORT=3001)
#   make test   install everything, then ruff, mypy and the whole pytest suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.arbx-installed
# uv (from PyPI, pinned) installs the locked set into the venv, several times faster than pip; it lives beside the
# venv's packages (.venv/uv), not among them
UV_VERSION ?= 0.13.9
UV := $(VENV)/uv/bin/uv
PORT ?= 3000

.PHONY: install browser run test lint typecheck pytest bench clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --target $(VENV)/uv uv==$(UV_VERSION)
	$(UV) pip install --quiet --native-tls --python $(BIN)/python --compile-bytecode -r requirements.lock
	$(UV) pip install --quiet --native-tls --python $(BIN)/python --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: install
	$(BIN)/arbx run --port $(PORT)

lint: install
	$(BIN)/ruff check arbx_pipelines tests
	$(BIN)/ruff format --check arbx_pipelines tests

typecheck: install
	$(BIN)/mypy

# Debian's chromium for the Dagster UI tests (Playwright drives it; browser downloads are not used).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium for the UI tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "UI tests need Debian's chromium: sudo apt-get install chromium"; fi; }

# Four workers: most tests wait on Dagster, the simulator or a subprocess rather than on a core, so four keep both
# cores busy. One test file per worker at a time (--dist loadfile: a file's shared simulator and Dagster fixtures
# start once), handed out in collection order (--no-loadscope-reorder; tests/conftest.py collects the longest files
# first, so no worker ends alone on a long file). Tests marked `isolated` (process signals and supervision, whose
# outcome must not depend on what other tests did to a shared worker process) then run alone in a fresh process.
# Coverage of arbx_pipelines is measured over both and printed; below 80 % fails.
PYTEST_ARGS ?= -n 4 --dist loadfile --no-loadscope-reorder -m "not isolated" --cov=arbx_pipelines --cov-report= --durations=15
ISOLATED_ARGS ?= -m isolated --cov=arbx_pipelines --cov-append --cov-report=term:skip-covered --cov-fail-under=80

pytest: install browser
	$(BIN)/pytest -q $(PYTEST_ARGS)
	$(BIN)/pytest -q $(ISOLATED_ARGS)

test: lint typecheck pytest

bench: install
	$(BIN)/arbx bench all

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .coverage .coverage.*
