"""考核评议 (seed 002 art. 25-26 and annex 1): the scoring sheet of each section. Pure.

Annex 1 art. 3 lists what is assessed (工作部署, 制度建设, 公开内容, 公开形式, 公开程序和时限, 监督保障措施);
art. 2(三) combines quantified and overall assessment: criteria with a figure from the records are
scored from it, the others by hand. Art. 26: the assessment weighs at least 5% in the annual work
appraisal (seed 000 says 4%; the stricter local rule is the floor here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MIN_ASSESSMENT_WEIGHT_PERCENT = 5  # seed 002 art. 26: 所占分值权重不低于5%
SOURCES = {
    "manual": "人工评分",
    "on_time_rate": "按期答复率 × 分值",
    "review_returns": "（1 − 保密审查退回次数 ÷ 答复件数）× 分值",
    "overdue": "（1 − 逾期件数 ÷ 应答复件数）× 分值",
}

DEFAULT_SCHEME: dict[str, Any] = {
    "assessment_weight_percent": MIN_ASSESSMENT_WEIGHT_PERCENT,
    "criteria": [
        {"key": "deployment", "label": "工作部署", "weight": 15, "source": "manual"},
        {"key": "rules", "label": "制度建设", "weight": 15, "source": "manual"},
        {"key": "content", "label": "公开内容", "weight": 15, "source": "manual"},
        {"key": "form", "label": "公开形式", "weight": 10, "source": "manual"},
        {"key": "timeliness", "label": "公开程序和时限（依申请公开按期答复）", "weight": 25, "source": "on_time_rate"},
        {"key": "overdue", "label": "公开程序和时限（逾期情况）", "weight": 5, "source": "overdue"},
        {"key": "review", "label": "审核把关（保密审查退回）", "weight": 5, "source": "review_returns"},
        {"key": "supervision", "label": "监督保障措施", "weight": 10, "source": "manual"},
    ],
}


def validate_scheme(scheme: Mapping[str, Any]) -> str | None:
    weight = scheme.get("assessment_weight_percent")
    if not isinstance(weight, int | float) or weight < MIN_ASSESSMENT_WEIGHT_PERCENT or weight > 100:
        return f"政务公开考核在年度工作目标考核中的权重不得低于{MIN_ASSESSMENT_WEIGHT_PERCENT}%（咸阳市统计局政务公开制度第二十六条）"
    criteria = scheme.get("criteria") or []
    if not criteria:
        return "考核评分表至少须有一项指标"
    keys = [c.get("key") for c in criteria]
    if len(set(keys)) != len(keys):
        return "考核指标的代码不能重复"
    for c in criteria:
        if c.get("source") not in SOURCES:
            return f"指标「{c.get('label')}」的评分方式无效（可选：{'、'.join(SOURCES)}）"
        if not isinstance(c.get("weight"), int | float) or c["weight"] <= 0:
            return f"指标「{c.get('label')}」的分值须大于0"
    if abs(sum(c["weight"] for c in criteria) - 100) > 1e-9:
        return f"各项指标分值合计须为100分（现为{sum(c['weight'] for c in criteria):g}分）"
    return None


def figure_score(source: str, weight: float, figures: Mapping[str, Any]) -> float | None:
    replied = figures.get("replied", 0)
    if source == "on_time_rate":
        return round(weight * figures["on_time"] / replied, 2) if replied else None
    if source == "review_returns":
        return round(weight * max(0.0, 1 - figures["review_returns"] / replied), 2) if replied else None
    if source == "overdue":
        due = replied + figures.get("open_overdue", 0)
        return round(weight * max(0.0, 1 - figures["overdue"] / due), 2) if due else None
    return None


def score_sheet(scheme: Mapping[str, Any], department: str, figures: Mapping[str, Any] | None,
                manual: Mapping[str, tuple[float, str]]) -> dict[str, Any]:
    """One section's sheet: each criterion's score (from the figures, else the manual score), the total."""
    rows, total, missing = [], 0.0, []
    for c in scheme["criteria"]:
        score, basis = None, SOURCES[c["source"]]
        if c["source"] != "manual" and figures is not None:
            score = figure_score(c["source"], c["weight"], figures)
        note = ""
        if score is None and c["key"] in manual:
            score, note = manual[c["key"]]
            basis = "人工评分" + ("（无统计数据）" if c["source"] != "manual" else "")
        if score is None:
            missing.append(c["label"])
        else:
            total += score
        rows.append({"key": c["key"], "label": c["label"], "weight": c["weight"], "source": c["source"],
                     "basis": basis, "score": score, "note": note})
    weight = scheme["assessment_weight_percent"]
    return {"department": department, "criteria": rows, "total": round(total, 2), "complete": not missing,
            "missing": missing, "assessment_weight_percent": weight,
            "appraisal_points": round(total * weight / 100, 2)}


def validate_manual_score(scheme: Mapping[str, Any], criterion: str, score: float) -> str | None:
    spec = next((c for c in scheme["criteria"] if c["key"] == criterion), None)
    if spec is None:
        return f"考核评分表没有指标 {criterion}"
    if not 0 <= score <= spec["weight"]:
        return f"「{spec['label']}」的得分须在0至{spec['weight']:g}分之间"
    return None
