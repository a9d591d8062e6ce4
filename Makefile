# The two commands of the quick start: `make demo` and `make test`. Both bootstrap .venv.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: test demo lint cluster cluster-down client-venvs bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip >/dev/null
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

test: $(STAMP) cluster client-venvs lint
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The loopback cluster needs root; without it the cluster tests skip (and fail under CI=true).
cluster:
	@if [ "$$(id -u)" = 0 ]; then tests/cluster/up; \
	elif sudo -n true 2>/dev/null; then sudo tests/cluster/up; \
	else echo "cluster: not root and no passwordless sudo; cluster tests will skip" >&2; fi

# pyxnat, xnatpy and DAX in venvs of their own under .venvs/ for tests/conformance (reused when
# their pinned lists in tests/tools/client-requirements/ have not changed).
client-venvs:
	PYTHON=python3 tests/tools/client-venvs

cluster-down:
	tests/cluster/down

demo: $(STAMP)
	$(BIN)/aspider demo

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .venvs .mypy_cache .pytest_cache .ruff_cache
