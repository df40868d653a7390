"""The test suite's own rules (issue 20): pins roll on the Shanghai calendar, and "on CI" means the same
to pytest (tests/ci.py) and to `make test`. Pure: no clock read, no server."""

import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from clock.deadline import SHANGHAI
from tests.ci import on_ci
from tests.dates import next_new_year, next_occurrence, next_shanghai_midnight

ROOT = Path(__file__).resolve().parent.parent


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_leap_day_pin_rolls_to_the_next_leap_day_in_shanghai():
    pinned = at("2028-02-29T07:00:00+08:00")  # 2028-02-28T23:00Z: the UTC date is not the agency's
    rolled = next_occurrence(pinned, real_now=at("2028-03-01T00:00:00+00:00"))
    assert rolled.astimezone(SHANGHAI).isoformat() == "2032-02-29T07:00:00+08:00"


def test_a_pin_keeps_its_shanghai_day_and_time_when_it_rolls():
    pinned = at("2027-12-31T23:59:30+08:00")  # 15:59:30Z
    rolled = next_occurrence(pinned, real_now=at("2028-06-01T00:00:00+00:00"))
    assert rolled.astimezone(SHANGHAI).isoformat() == "2028-12-31T23:59:30+08:00"
    assert next_occurrence(pinned, real_now=at("2027-01-01T00:00:00+00:00")) == pinned  # still ahead: kept
    assert rolled.tzinfo == timezone.utc


def test_the_next_midnight_and_new_year_are_shanghais():
    evening_utc = at("2026-12-31T15:59:00+00:00")  # 23:59 in Shanghai
    assert next_shanghai_midnight(evening_utc) == at("2027-01-01T00:00:00+08:00")
    assert next_new_year(evening_utc) == at("2027-01-01T00:00:00+08:00")
    assert next_new_year(evening_utc + timedelta(minutes=2)) == at("2028-01-01T00:00:00+08:00")


CI_VALUES = ["", "0", "false", "False", "no", "off", "true", "TRUE", "1", "yes", "github"]


@pytest.mark.parametrize("value", CI_VALUES)
def test_pytest_and_make_agree_on_ci(monkeypatch: pytest.MonkeyPatch, value: str):
    monkeypatch.setenv("CI", value)
    in_python = on_ci()
    assert in_python == (value.lower() not in ("", "0", "false", "no", "off"))
    # The Makefile's own test of CI (its PostgreSQL step), run by the shell make uses.
    makefile = (ROOT / "Makefile").read_text()
    condition = next(line for line in makefile.splitlines() if "CI:-" in line)
    condition = condition.strip().removeprefix("elif ").removesuffix("; then \\").replace("$$", "$")
    shell = subprocess.run(["sh", "-c", f"if {condition}; then echo ci; else echo local; fi"],
                           env={"CI": value, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert shell.stdout.strip() == ("ci" if in_python else "local"), shell.stderr


def test_ci_run_sets_ci_itself():
    script = (ROOT / ".ci" / "run").read_text()
    assert "export CI=true" in script.split("make test")[0]
