# Wuxin: two commands from a fresh clone.
#   make demo   the platform on embedded SQLite with simulated borrowers, API on 127.0.0.1:8000
#   make test   lint and types (scripts/lint.sh), then the whole test suite; scripts/test-setup.sh installs what it needs (as root) and starts a
#               throwaway PostgreSQL when none answers on 127.0.0.1:5432
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?= -q -n 2 --dist loadfile

.PHONY: demo test install bench clean

$(BIN)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	PYTHON=$(PYTHON) scripts/vendor-sdks.sh
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/wuxin demo

test: install
	BIN=$(BIN) scripts/lint.sh
	scripts/test-setup.sh $(BIN)/pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/wuxin bench ingest
	$(BIN)/wuxin bench jt808
	$(BIN)/wuxin bench ledger

clean:
	rm -rf $(VENV) $(VENV)-sdk-tb $(VENV)-sdk-linkkit var test-artifacts
