# Quickstart: `make run` (install, generate sample extracts, run the nightly job), `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# An old DuckDB client, to test that BI tools on DuckDB 1.x can open the serving database.
DUCKDB_1_1_CLIENT := duckdb==1.1.3
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false

.PHONY: install run test ui generate bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test]'
	$(PYTHON) -m venv $(VENV)/duckdb-1.1
	$(VENV)/duckdb-1.1/bin/pip install --quiet $(DUCKDB_1_1_CLIENT)
	touch $@

# Generates the sample extracts only when the data folder has none yet.
run: install
	@if [ ! -d "$${CX_DATA_DIR:-data}/extracts" ]; then $(BIN)/cx-pipeline generate; fi
	$(BIN)/cx-pipeline run

generate: install
	$(BIN)/cx-pipeline generate

ui: install
	$(BIN)/cx-pipeline ui

test: install
	$(BIN)/python -m pytest

# The benchmark of docs/performance.md: SCALE=small|medium|large (large takes about an hour).
SCALE ?= small
bench: install
	$(BIN)/python -m bench.run --scale $(SCALE)

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs
