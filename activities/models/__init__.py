"""Shim: the contracts moved to contracts/models.py (issue 12, point 9).

A package (activities/models/__init__.py), not activities/models.py, so that git sees the old file as
renamed to contracts/models.py and parallel branches' edits to it merge there by rename detection.

Kept only so that branches merging this session still import; new code imports contracts.models.
"""

from contracts.models import *  # noqa: F401,F403
from contracts.models import (  # noqa: F401
    DeliveryMethod,
    ItemRecord,
    EventRecord,
    ApplicationRecord,
    PersistApplicationInput,
    PrescreenText,
    PrescreenInput,
    PrescreenFinding,
    PrescreenResult,
    ReplyItem,
    LetterKind,
    ComposeLetterInput,
    Letter,
    DispatchInput,
    DispatchResult,
    StaffAlertInput,
    OutboxStatus,
    AttachmentRef,
    IssueLetterInput,
    IssuedLetter,
    SendLetterInput,
    SendLetterResult,
    RecordDeliveryInput,
    OpenApplicationsPage,
)
