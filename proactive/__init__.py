"""政务公开 beyond applications: the pure deadline rules of proactive disclosure, policy
interpretation and public-opinion response (seed 002 arts. 13, 20, 21; seed 001). No I/O."""

from proactive.rules import (
    INTERPRETATION_WORKING_DAYS,
    PUBLICATION_DAYS,
    Deadline,
    HourLimit,
    interpretation_due,
    opinion_limits,
    publication_due,
)

__all__ = [
    "INTERPRETATION_WORKING_DAYS",
    "PUBLICATION_DAYS",
    "Deadline",
    "HourLimit",
    "interpretation_due",
    "opinion_limits",
    "publication_due",
]
