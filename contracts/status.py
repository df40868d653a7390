"""One Status: the application's states, their labels for staff and for applicants, and finality.

The one place these are written (issue 12 point 11); contracts.application_view, db.models, api/pages and the
applicant API import them. A final status ends the application (its workflow completes).
"""

from typing import Literal

Status = Literal[
    "handling",
    "awaiting-supplement",
    "consulting",
    "in-review",
    "awaiting-signature",
    "awaiting-delivery",
    "closed",
    "withdrawn",
    "abandoned",
]
# Ordered: db.models builds the listing's SQL predicate (and the partial indexes' text) from it.
FINAL_STATUS_ORDER: tuple[str, ...] = ("closed", "withdrawn", "abandoned")
FINAL_STATUSES: frozenset[str] = frozenset(FINAL_STATUS_ORDER)

# For staff: the step the application is at.
STAFF_LABELS: dict[str, str] = {
    "handling": "办理中", "awaiting-supplement": "等待申请人补正", "consulting": "征求意见中",
    "in-review": "保密审查中", "awaiting-signature": "待签发", "awaiting-delivery": "待送达",
    "closed": "已办结", "withdrawn": "已撤回", "abandoned": "视为放弃",
}
# For applicants: what the status means to them (pages and the applicant API word it the same way).
APPLICANT_LABELS: dict[str, str] = {
    "handling": "办理中", "awaiting-supplement": "等待您补正", "consulting": "办理中（征求意见期间不计入答复期限）",
    "in-review": "办理中", "awaiting-signature": "办理中", "awaiting-delivery": "已答复，等待送达",
    "closed": "已办结", "withdrawn": "已撤回", "abandoned": "视为放弃申请",
}


def is_final(status: str) -> bool:
    return status in FINAL_STATUSES
