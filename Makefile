# The two commands of the quick start: `make demo` and `make test`. Both bootstrap .venv.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: test demo lint cluster cluster-down browser client-venvs bench clean image-smoke

$(STAMP): pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip >/dev/null
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

test: $(STAMP) cluster browser client-venvs lint
	$(BIN)/pytest

# Shell scripts and the Dockerfile are linted too: shellcheck (from Debian, installed here if
# missing) and hadolint (from PyPI, in .venv).
SHELL_SCRIPTS := docker/entrypoint.sh tests/container/image-smoke tools/need-debian-packages \
                 tests/cluster/up tests/cluster/down .ci/run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
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

demo: $(STAMP)
	$(BIN)/aspider demo

# Build the image and run it (--help, and a sweep against the XNAT-compatible server on the
# host network). Needs a Docker daemon; says NOT RUN and fails without one.
image-smoke: $(STAMP)
	tests/container/image-smoke

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .venvs .mypy_cache .pytest_cache .ruff_cache
