# Two entry points for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test venv clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

run: venv
	$(PY) run.py

# The suite on SQLite, then again on PostgreSQL when one answers on 127.0.0.1:5432 (as on CI):
# each run makes its own databases and drops them.
PG_PROBE := import psycopg; psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3").close()

test: venv
	$(PY) -m pytest -q $(PYTEST_ARGS)
	@if $(PY) -c '$(PG_PROBE)' 2>/dev/null; then \
		echo "== PostgreSQL answers on 127.0.0.1:5432: the suite again with DISCLOSURE_TEST_DATABASE=postgres"; \
		DISCLOSURE_TEST_DATABASE=postgres $(PY) -m pytest -q $(PYTEST_ARGS); \
	else \
		echo "== no PostgreSQL on 127.0.0.1:5432: the PostgreSQL run is skipped"; \
	fi

clean:
	rm -rf $(VENV) data
