"""Hypothesis settings profiles. On CI (tests/ci.py) every failure prints what reproduces it.

`ci`: no deadline (a shared CI machine is slow and uneven) and `print_blob`, so a failure prints,
besides the falsifying example, the `@reproduce_failure(...)` decorator that replays exactly that
example when put on the test. Tests' own `@settings` still decide their example counts.
`HYPOTHESIS_PROFILE=ci` picks the profile by hand.
"""

import os

from hypothesis import settings

from tests.ci import on_ci

settings.register_profile("ci", print_blob=True, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if on_ci() else "default"))
