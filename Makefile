# Two entry points for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run demo test venv clean system-packages

# Debian packages the letters need: a CJK TrueType font for the PDFs (fonts-wqy-zenhei) and pdftoppm
# (poppler-utils) for the tests' page previews. Installed only when missing and when we are root with
# apt-get (CI: root on Debian); otherwise a hint, and the PDF tests skip (fail on CI, CI=true).
# Debian's chromium: the browser tests (tests/browser) drive it with Playwright (whose own download cannot work here).
SYSTEM_PACKAGES := fonts-wqy-zenhei poppler-utils chromium
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc

system-packages:
	@if [ -f $(CJK_FONT) ] && command -v pdftoppm >/dev/null 2>&1 && command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "== installing $(SYSTEM_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(SYSTEM_PACKAGES); \
	else \
		echo "== missing $(SYSTEM_PACKAGES): install them (sudo apt-get install $(SYSTEM_PACKAGES)); PDF and browser tests are skipped"; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

run: venv system-packages
	$(PY) run.py

# `make run` plus demo staff of every role and a few dozen applications in every state (idempotent).
demo: venv system-packages
	$(PY) run.py --demo

# The suite on SQLite, then again on PostgreSQL when one answers on 127.0.0.1:5432 (as on CI):
# each run makes its own databases and drops them.
PG_PROBE := import psycopg; psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3").close()

test: venv system-packages
	$(PY) -m pytest -q $(PYTEST_ARGS)
	@if $(PY) -c '$(PG_PROBE)' 2>/dev/null; then \
		echo "== PostgreSQL answers on 127.0.0.1:5432: the suite again with DISCLOSURE_TEST_DATABASE=postgres"; \
		DISCLOSURE_TEST_DATABASE=postgres $(PY) -m pytest -q $(PYTEST_ARGS); \
	else \
		echo "== no PostgreSQL on 127.0.0.1:5432: the PostgreSQL run is skipped"; \
	fi

clean:
	rm -rf $(VENV) data
