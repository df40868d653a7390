"""责任追究 (seed 002 art. 30 and annex 2): grounds and the ladder 责令改正 → 通报批评 → 依纪依法处理. Pure.

Annex 2 arts. 4-5: a breach is ordered corrected (责令改正); a more serious one is criticised in a
circular (通报批评); a serious one is handled under discipline or law (依纪依法给予处理). Art. 3: education
first: a case climbs the ladder one step at a time, each step with its reason.
"""

from __future__ import annotations

LEVELS: dict[str, str] = {
    "order-correction": "责令改正",
    "circular-criticism": "通报批评",
    "disciplinary": "依纪依法处理",
}
GROUNDS: dict[str, str] = {
    "overdue-reply": "未按规定时限答复依申请公开（附件二第四条第（一）项）",
    "late-publication": "未按规定时限主动公开（附件二第四条第（一）项、第五条第（二）项）",
    "fee-against-rules": "违反规定收取费用（附件二第五条第（三）项）",
    "wrongful-disclosure": "公开不应当公开的政务信息（附件二第五条第（五）项）",
    "ignored-report": "对不履行政务公开义务的举报不积极处理（附件二第四条第（二）项）",
    "other": "其他违反政务公开规定的行为（附件二第五条第（六）项）",
}


def next_level(level: str) -> str | None:
    order = list(LEVELS)
    position = order.index(level)
    return order[position + 1] if position + 1 < len(order) else None


def why_not_escalate(status: str, level: str) -> str | None:
    if status != "open":
        return "该责任追究案件已办结"
    if next_level(level) is None:
        return "已依纪依法处理，不能再升级"
    return None
