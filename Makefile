# Two entry points for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run demo test venv clean system-packages

# Debian packages the letters need: a CJK TrueType font for the PDFs (fonts-wqy-zenhei) and pdftoppm
# (poppler-utils) for the tests' page previews. Installed only when missing and when we are root with
# apt-get (CI: root on Debian); otherwise a hint, and the PDF tests skip (fail on CI, tests/ci.py). apt-get waits
# up to 5 minutes for the dpkg lock another apt (unattended upgrades, a neighbour's install) holds.
# Debian's chromium: the browser tests (tests/browser) drive it with Playwright (whose own download cannot work here).
# Debian's tesseract with its Simplified Chinese model: OCR of scanned files to be released (release/ocr.py).
SYSTEM_PACKAGES := fonts-wqy-zenhei poppler-utils chromium tesseract-ocr tesseract-ocr-chi-sim
TESSDATA_CHI_SIM := /usr/share/tesseract-ocr/5/tessdata/chi_sim.traineddata
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
APT_LOCK_SECONDS := 300

system-packages:
	@if [ -f $(CJK_FONT) ] && command -v pdftoppm >/dev/null 2>&1 && command -v chromium >/dev/null 2>&1 \
		&& command -v tesseract >/dev/null 2>&1 && [ -f $(TESSDATA_CHI_SIM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "== installing $(SYSTEM_PACKAGES)"; \
		apt-get -o DPkg::Lock::Timeout=$(APT_LOCK_SECONDS) update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get -o DPkg::Lock::Timeout=$(APT_LOCK_SECONDS) install -y -q --no-install-recommends $(SYSTEM_PACKAGES); \
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

# The suite on SQLite, then again on PostgreSQL (127.0.0.1:5432 as on CI, or DISCLOSURE_TEST_POSTGRES_URL):
# each run makes its own databases and drops them. On CI a missing PostgreSQL is a failure (CI as tests/ci.py
# reads it: set and not empty/0/false/no/off; .ci/run sets CI=true).
# Then the tests that read today (marker `dates`) again with the clock pinned (tests/dates.py; workflows too,
# from their first task): due dates in an unpublished year (2026-12-20), New Year's Eve (2027-12-31 23:00; the
# year's turn itself is crossed in every run by the `clock_at` fixture), a leap day (2028-02-29); then a holiday
# (2027-10-01) as if a newer chinesecalendar release were installed (tests/newer_calendar.py), with the
# fixed-date calendar and clock rules that read the package's years (marker `calendar_data`).
PG_PROBE := import os, psycopg; from sqlalchemy.engine import make_url; \
	url = make_url(os.environ.get("DISCLOSURE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")); \
	psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False), connect_timeout=3).close()
# What the PostgreSQL run leaves out: tests that touch no database (pure rules, letter typesetting), the
# pages' browser and demo tests, whose every database access is the JSON API's, run on PostgreSQL, and the
# 60-day SMTP outage (a history bound of the workflow; its outbox writes are the same as the outage tests').
PG_SKIP := --ignore=tests/browser --ignore=tests/test_demo.py --ignore=tests/test_letter_typography.py \
	--ignore=tests/test_clock.py --ignore=tests/test_workcalendar.py --ignore=tests/test_prescreen.py \
	--ignore=tests/test_proactive_rules.py --ignore=tests/test_compose.py --ignore=tests/test_guidance.py \
	--ignore=tests/test_application_rules.py --ignore=tests/test_fees_counting.py --ignore=tests/test_proactive_near.py \
	--ignore=tests/test_letter_outage_history.py --ignore=tests/test_law_letters.py --ignore=tests/test_letter_documents.py \
	--ignore=tests/test_letters.py --ignore=tests/test_release_files.py
# The SQLite and PostgreSQL runs in two pytest processes, each with its own dev server, SMTP server and
# databases (tests/conftest.py): a test waits on the server far more than it computes (27 s of CPU for 108 s
# of a sample's wall time), so two processes nearly halve the run on CI's 2 cores. Whole files go to one
# process (module fixtures), in collection order (tests/conftest.py puts the longest files first; xdist would
# otherwise hand out the files with the most tests first and leave the 4-minute one for last). PARALLEL= runs in one process.
PARALLEL ?= -n 2 --dist loadfile --no-loadscope-reorder
PINNED_DATES := 2026-12-20T10:00:00+08:00 2027-12-31T23:00:00+08:00 2028-02-29T10:00:00+08:00

test: venv system-packages
	$(PY) -m pytest -q $(PARALLEL) $(PYTEST_ARGS)
	@if $(PY) -c '$(PG_PROBE)' 2>/dev/null; then \
		echo "== PostgreSQL answers: the suite again with DISCLOSURE_TEST_DATABASE=postgres"; \
		DISCLOSURE_TEST_DATABASE=postgres $(PY) -m pytest -q $(PARALLEL) $(PG_SKIP) $(PYTEST_ARGS) || exit 1; \
	elif case "$$(printf %s "$${CI:-}" | tr A-Z a-z)" in ""|0|false|no|off) false;; *) true;; esac; then \
		echo "== CI: no PostgreSQL answers (127.0.0.1:5432 or DISCLOSURE_TEST_POSTGRES_URL): failing"; exit 1; \
	else \
		echo "== no PostgreSQL answers: the PostgreSQL run is skipped"; \
	fi
	@for pinned in $(PINNED_DATES); do \
		echo "== the date-sensitive tests with the clock pinned at $$pinned"; \
		DISCLOSURE_TEST_NOW=$$pinned $(PY) -m pytest -q -m dates $(PARALLEL) $(PYTEST_ARGS) || exit 1; \
	done
	@echo "== the date-sensitive tests pinned at 2027-10-01T10:00:00+08:00, with a newer chinesecalendar release"
	DISCLOSURE_TEST_NOW=2027-10-01T10:00:00+08:00 $(PY) -m pytest -q -m "dates or calendar_data" -p tests.newer_calendar $(PARALLEL) $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) data
