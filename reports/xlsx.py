"""The annual report and the assessment sheets as XLSX workbooks (openpyxl). Pure apart from the library."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any

from reports.annual import PROACTIVE_FIELD_LABELS

SHEET_TEXT, SHEET_T2, SHEET_T3, SHEET_T4, SHEET_CHECK = "正文", "表二 主动公开", "表三 依申请公开", "表四 复议诉讼", "校验"


def _bold(ws, row: int) -> None:
    from openpyxl.styles import Font

    for c in ws[row]:
        c.font = Font(bold=True)


def report_workbook(report: Mapping[str, Any], status_line: str) -> bytes:
    """Sheets: 正文 (sections), 表二, 表三 (row and column keys in the first column / second row, so a reader can
    find every cell), 表四, 校验."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_TEXT
    ws.append([report["title"]])
    ws.append([status_line])
    ws.append(["统计口径", report["counting_rule"]])
    for section in report["sections"]:
        ws.append([section["title"], section["text"]])
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 120

    t2 = wb.create_sheet(SHEET_T2)
    t2.append(["项目", "key", "信息内容", "栏目", "field", "数值"])
    _bold(t2, 1)
    for row in report["table2"]["rows"]:
        for field, value in row["cells"].items():
            t2.append([row["group"], row["key"], row["label"], PROACTIVE_FIELD_LABELS[field], field, value])

    t3 = wb.create_sheet(SHEET_T3)
    columns = report["table3"]["columns"]
    t3.append(["", "", *(("法人或其他组织" if c["group"] else "") for c in columns)])
    t3.append(["key", "项目", *(c["key"] for c in columns)])
    t3.append(["", "", *(c["label"] for c in columns)])
    for r in (1, 2, 3):
        _bold(t3, r)
    for row in report["table3"]["rows"]:
        label = row["label"] if row["category"] is None or row["key"] in ("results-total",) else \
            f"{row['category']} {row['label']}" if row["key"] not in ("disclosed", "partly-disclosed") else row["category"]
        t3.append([row["key"], label, *(row["cells"][c["key"]] for c in columns)])
    t3.column_dimensions["A"].width = 18
    t3.column_dimensions["B"].width = 70

    t4 = wb.create_sheet(SHEET_T4)
    labels = report["table4"]["result_labels"]
    t4.append(["key", "类别", *labels.keys()])
    t4.append(["", "", *labels.values()])
    _bold(t4, 1)
    for group in report["table4"]["groups"]:
        t4.append([group["key"], group["label"], *(group["cells"][k] for k in labels)])
    t4.column_dimensions["B"].width = 30

    ck = wb.create_sheet(SHEET_CHECK)
    ck.append(["列", "一 本年新收", "二 上年结转", "三（七）总计", "四 结转下年度", "一＋二", "三（七）＋四", "相符"])
    _bold(ck, 1)
    for c in report["check"]["columns"]:
        ck.append([c["label"], c["new"], c["carried_in"], c["results_total"], c["carried_out"], c["left"], c["right"],
                   "是" if c["ok"] else "否"])
    fees = report["fees"]
    ck.append([])
    if fees.get("rows"):  # issue 11 point 12: the fee table, one row per figure
        ck.append(["信息处理费", "数量", fees["note"]])
        for row in fees["rows"]:
            ck.append([row["label"], row["value"]])
    else:  # a version published before the fee table
        ck.append(["信息处理费：收费件数", fees["charged_applications"], "金额（元）", fees["amount_yuan"], "减免件数",
                   fees["waived_applications"], fees["note"]])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def assessment_workbook(title: str, sheets: Iterable[Mapping[str, Any]], figures: Iterable[Mapping[str, Any]],
                        monthly: Iterable[Mapping[str, Any]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "评分表"
    ws.append([title])
    ws.append(["科室", "指标", "分值", "评分方式", "得分", "说明"])
    _bold(ws, 2)
    for sheet in sheets:
        for c in sheet["criteria"]:
            ws.append([sheet["department"], c["label"], c["weight"], c["basis"], c["score"], c["note"]])
        ws.append([sheet["department"], "合计", 100, f"占年度工作目标考核 {sheet['assessment_weight_percent']}%",
                   sheet["total"], f"折合年度考核 {sheet['appraisal_points']} 分" + ("" if sheet["complete"] else
                                                                          "；未评：" + "、".join(sheet["missing"]))])
    fs = wb.create_sheet("办理情况")
    fs.append(["科室", "承办人", "答复件数", "按期", "逾期答复", "逾期未答复", "逾期合计", "按期答复率", "延期", "保密审查退回"])
    _bold(fs, 1)
    for f in figures:
        fs.append([f["department"], f["handler"], f["replied"], f["on_time"], f["late"], f["open_overdue"], f["overdue"],
                   f["on_time_rate"], f["extended"], f["review_returns"]])
    ms = wb.create_sheet("按月")
    ms.append(["月份", "科室", "答复件数", "按期", "逾期"])
    _bold(ms, 1)
    for m in monthly:
        ms.append([m["month"], m["department"], m["replied"], m["on_time"], m["late"]])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
