"""The whole annual report of a year as one JSON document: what the API returns, the PDF and XLSX print,
and what publication freezes. Pure: the caller passes the figures it queried.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from reports.annual import (
    CARRIED_IN,
    CARRIED_OUT,
    COLUMN_LABELS,
    COLUMNS,
    COUNTING_RULE,
    ORGANISATION_COLUMNS,
    REMEDY_KINDS,
    REMEDY_RESULTS,
    ROWS,
    SECTIONS,
    TABLE4_RULE,
    build_table2,
    build_table3,
    build_table4,
    category_label,
    check_table3,
    draft_sections,
    fee_figures,
    row_label,
)

FORMAT = "国办公开办函〔2021〕30号"


def assemble_report(
    *,
    year: int,
    agency: str,
    counts: Mapping[str, Any],
    remedy_cases: list[tuple[str, str | None, date | None]],
    timeliness: Mapping[str, int],
    draft: Mapping[str, Any] | None,
    previous_carried_out: Mapping[str, int] | None,
    generated_at: datetime,
    fee_counts: Mapping[str, int] | None = None,
    table2_recorded: Mapping[str, Mapping[str, float | int | None]] | None = None,
    table2_catalogue: Mapping[str, Mapping[str, int]] | None = None,
    participation: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    draft = dict(draft or {})
    adjustments = draft.get("table3_adjustments") or {}
    table3 = build_table3(counts["new"], counts["carried_in"], counts["results"], counts["carried_out"], adjustments)
    table4 = build_table4(remedy_cases, date(year, 12, 31))
    table2 = build_table2(draft.get("table2"), table2_recorded, table2_catalogue)
    fees = fee_figures(fee_counts)
    generated = draft_sections(year, agency, table3, table4, fees, timeliness, participation)
    texts = draft.get("sections") or {}
    sections = [{"key": key, "title": title, "text": texts.get(key) or generated[key], "draft_text": generated[key],
                 "edited": bool(texts.get(key))} for key, title in SECTIONS]
    check = check_table3(table3)
    blocking = list(check["problems"])
    if table2["missing"]:
        blocking.append("表二尚有未填报的数字：" + "、".join(table2["missing"]))
    cross = None
    if previous_carried_out is not None:
        mismatched = [COLUMN_LABELS[c] for c in COLUMNS if int(previous_carried_out.get(c, 0)) != table3[CARRIED_IN][c]]
        cross = {"previous_carried_out": {c: int(previous_carried_out.get(c, 0)) for c in COLUMNS},
                 "matches": not mismatched,
                 "note": "上年结转数与上年已公布报告的“结转下年度继续办理”一致" if not mismatched else
                 "上年结转数与上年已公布报告不一致（" + "、".join(mismatched) + "），请核实或以更正方式说明"}
    return {
        "year": year,
        "agency": agency,
        "title": f"{agency}{year}年政府信息公开工作年度报告",
        "format": FORMAT,
        "generated_at": generated_at.isoformat(),
        "counting_rule": COUNTING_RULE,
        "sections": sections,
        "table2": table2,
        "table3": {
            "columns": [{"key": c, "label": COLUMN_LABELS[c],
                         "group": "法人或其他组织" if c in ORGANISATION_COLUMNS else None} for c in COLUMNS],
            "rows": [{"key": row, "label": row_label(row),
                      "category": category_label(row) if row not in ("new", "carried-in", "results-total", "carried-out") else None,
                      "cells": table3[row]} for row in ROWS],
            "adjustments": adjustments,
            "adjustment_reason": draft.get("table3_adjustment_reason") or "",
        },
        "table4": {
            "rule": TABLE4_RULE,
            "groups": [{"key": kind, "label": label, "cells": table4[kind]} for kind, label in REMEDY_KINDS.items()],
            "result_labels": REMEDY_RESULTS,
        },
        "fees": fees,
        "timeliness": dict(timeliness),
        "check": check,
        "cross_check": cross,
        "blocking": blocking,
        "publishable": not blocking,
    }


def cell(report: Mapping[str, Any], row: str, column: str) -> int:
    """Table 三's cell (row key, column key) of an assembled report."""
    return next(r for r in report["table3"]["rows"] if r["key"] == row)["cells"][column]


def carried_out_of(report: Mapping[str, Any]) -> dict[str, int]:
    return dict(next(r for r in report["table3"]["rows"] if r["key"] == CARRIED_OUT)["cells"])


__all__ = ["assemble_report", "cell", "carried_out_of", "CARRIED_IN"]
