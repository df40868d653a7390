"""The one answer to "are we on CI?" for the whole suite.

`.ci/run` sets CI=true itself (GitHub Actions, GitLab and most CI services set it too). On CI a
missing tool the suite needs (PostgreSQL, the CJK font, pdftoppm, Chromium) fails the run instead of
skipping; Hypothesis prints how to reproduce a failure. The Makefile's test target reads the same
variable the same way (CI unset, empty, 0, false, no or off: not CI).
"""

import os

import pytest

NOT_CI = ("", "0", "false", "no", "off")


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in NOT_CI


def skip_unless_ci(reason: str) -> None:
    """Something a test needs is missing: a skip on a developer's machine, a failure on CI,
    where nothing the suite must test may vanish silently."""
    if on_ci():
        pytest.fail(f"CI: {reason}", pytrace=False)
    pytest.skip(reason)
