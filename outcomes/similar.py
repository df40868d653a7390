"""Earlier requests of the same applicant that resemble the present ones (Reg. 36(6): 重复申请). Pure.

Only a hint for the handler, who decides whether 不予处理-2 applies and names the earlier, answered
application. Chinese has no spaces, so the comparison is rapidfuzz's weighted ratio on characters.
"""

from dataclasses import dataclass

from rapidfuzz import fuzz, utils

SIMILAR_AT = 80.0


@dataclass(frozen=True)
class EarlierItem:
    application_id: str
    item_no: int
    description: str
    outcome: str | None


@dataclass(frozen=True)
class SimilarItem:
    item_no: int
    earlier: EarlierItem
    score: float


def similar_items(current: list[str], earlier: list[EarlierItem], threshold: float = SIMILAR_AT) -> list[SimilarItem]:
    """Each (present item, earlier item) pair scoring at least `threshold` (0-100), best first."""
    found = [
        SimilarItem(item_no=n, earlier=e, score=round(score, 1))
        for n, text in enumerate(current, start=1)
        for e in earlier
        if (score := fuzz.WRatio(text, e.description, processor=utils.default_process)) >= threshold
    ]
    return sorted(found, key=lambda s: (-s.score, s.item_no, s.earlier.application_id))
