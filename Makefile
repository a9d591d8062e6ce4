# The two commands of the quick start: `make demo` and `make test`. Both bootstrap .venv from
# the lock files in requirements/ (docs/development.md): the demo's holds the runtime and the
# sandbox, the tests add their tools. The venv is made anew whenever a lock changes, so it holds
# exactly what is locked, and every package is checked against its hash.
VENV   := .venv
BIN    := $(VENV)/bin
PYTHON ?= python3
LOCKED := $(BIN)/python -m pip install -q --require-hashes
DEMO_STAMP := $(VENV)/.stamp-demo
TEST_STAMP := $(VENV)/.stamp-test

.PHONY: test demo lint lock test-latest cluster cluster-down browser client-venvs bench clean \
        image-smoke

$(VENV)/.stamp-made: requirements/demo.txt requirements/test.txt
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	touch $@

# The project itself, editable, built by the locked hatchling (no build isolation, no resolver).
$(DEMO_STAMP): $(VENV)/.stamp-made pyproject.toml
	$(LOCKED) -r requirements/demo.txt
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

$(TEST_STAMP): $(DEMO_STAMP)
	$(LOCKED) -r requirements/test.txt
	$(BIN)/python -m pip check
	touch $@

test: $(TEST_STAMP) cluster browser client-venvs lint
	$(BIN)/pytest

# Shell scripts and the Dockerfile are linted too: shellcheck (from Debian, installed here if
# missing) and hadolint (from PyPI, in .venv).
SHELL_SCRIPTS := docker/entrypoint.sh tests/container/image-smoke tools/need-debian-packages \
                 tests/cluster/up tests/cluster/down .ci/run

# Dead code: the packages, with the tests and benchmarks as their users, and the whitelist of
# what only a framework, a template or a wire format uses.
VULTURE := aspider pbs xnat_client tests benchmarks tools/vulture-whitelist.py \
           --min-confidence 60 --ignore-names pytestmark \
           --ignore-decorators @field_validator,@model_validator,@pytest.fixture

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/vulture $(VULTURE)
	tools/need-debian-packages shellcheck
	shellcheck -x $(SHELL_SCRIPTS)
	$(BIN)/hadolint Dockerfile

# The loopback cluster needs root; without it the cluster tests skip (and fail under CI=true).
cluster:
	@if [ "$$(id -u)" = 0 ]; then tests/cluster/up; \
	elif sudo -n true 2>/dev/null; then sudo tests/cluster/up; \
	else echo "cluster: not root and no passwordless sudo; cluster tests will skip" >&2; fi

# Debian's chromium for the status-page test (Playwright drives it; it never downloads one).
browser:
	@if [ "$$(id -u)" = 0 ]; then tests/browser/up; \
	elif sudo -n true 2>/dev/null; then sudo tests/browser/up; \
	else echo "browser: not root and no passwordless sudo; the page test will skip" >&2; fi

# pyxnat, xnatpy and DAX in venvs of their own under .venvs/ for tests/conformance and
# tests/dax_compat (reused when their pinned lists in tests/tools/client-requirements/ have not
# changed); curl and unzip for the DAX jobs tests/dax_compat runs.
client-venvs:
	PYTHON=python3 tests/tools/client-venvs
	tools/need-debian-packages curl unzip

cluster-down:
	tests/cluster/down

demo: $(DEMO_STAMP)
	$(BIN)/aspider demo

# Build the image and run it (--help, and a sweep against the XNAT-compatible server on the
# host network). Needs a Docker daemon; says NOT RUN and fails without one.
image-smoke: $(TEST_STAMP)
	tests/container/image-smoke

bench: $(TEST_STAMP)
	$(BIN)/python -m benchmarks

# Refreshes the lock files from pyproject.toml with uv (itself locked, in .venvs/lock). Pins
# already there stay; `make lock UPGRADE=1` moves every one to the newest release allowed.
LOCK_VENV := .venvs/lock
lock:
	test -x $(LOCK_VENV)/bin/uv || { rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV) && \
	  $(LOCK_VENV)/bin/python -m pip install -q --require-hashes -r requirements/lock-tool.txt; }
	$(LOCK_VENV)/bin/python tools/lock.py $(if $(UPGRADE),--upgrade)

# The upgrade check, apart from the everyday path: a throwaway venv of the newest releases
# pyproject allows, and the whole suite on it. A new upstream release fails here first.
LATEST := .venvs/latest
test-latest: cluster browser client-venvs
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install -q --upgrade --upgrade-strategy eager -e '.[sandbox,test,lint]'
	$(LATEST)/bin/python -m pip freeze --exclude-editable > $(LATEST)/versions.txt
	@echo "test-latest: the versions tried are in $(LATEST)/versions.txt"
	$(LATEST)/bin/pytest

clean:
	rm -rf $(VENV) .venvs .mypy_cache .pytest_cache .ruff_cache
