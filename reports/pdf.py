"""The annual report as a PDF in the layout of 国办公开办函〔2021〕30号: sections 一 to 六, tables 二, 三, 四.

Pure apart from reading the CJK font (letters/documents.py finds it). Table cells are drawn as a grid
with merged cells where the 30号 tables merge them (申请人情况 / 法人或其他组织 headings, the 三、本年度办理结果
and （三）不予公开… label blocks, 行政复议 / 行政诉讼 headings).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timezone
from typing import Any

from letters.documents import find_cjk_font
from reports.annual import PROACTIVE_FIELD_LABELS

MARGIN = 15.0
WIDTH = 210 - 2 * MARGIN
LINE = 4.2


class _Grid:
    def __init__(self, pdf) -> None:
        self.pdf = pdf

    def lines(self, text: str, width: float, size: float) -> int:
        self.pdf.set_font("cjk", size=size)
        return max(1, len(self.pdf.multi_cell(width - 1.6, LINE, text, dry_run=True, output="LINES")))

    def box(self, x: float, y: float, w: float, h: float, text: str, size: float = 8, align: str = "C",
            bold_fill: bool = False) -> None:
        pdf = self.pdf
        if bold_fill:
            pdf.set_fill_color(238, 238, 238)
            pdf.rect(x, y, w, h, style="DF")
        else:
            pdf.rect(x, y, w, h)
        pdf.set_font("cjk", size=size)
        n = self.lines(text, w, size)
        pdf.set_xy(x + 0.8, y + (h - n * LINE) / 2)
        pdf.multi_cell(w - 1.6, LINE, text, align=align)


def _number(value: Any) -> str:
    if value is None:
        return "（待填报）"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:g}"
    return str(int(value))


def _ensure_space(pdf, height: float) -> None:
    if pdf.get_y() + height > pdf.h - MARGIN:
        pdf.add_page()


def _heading(pdf, text: str) -> None:
    _ensure_space(pdf, 20)
    pdf.set_font("cjk", size=14)
    pdf.ln(2)
    pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _paragraphs(pdf, text: str) -> None:
    pdf.set_font("cjk", size=11)
    for paragraph in [p.strip() for p in text.split("\n") if p.strip()]:
        # No leading 全角 indent: fpdf2 breaks lines at it, which left an empty first line.
        pdf.multi_cell(0, 6.5, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)


def _table2(pdf, grid: _Grid, table2: Mapping[str, Any]) -> None:
    w_label, w_num = 60.0, (WIDTH - 60.0) / 3
    groups: dict[str, list] = {}
    for row in table2["rows"]:
        groups.setdefault(row["group"], []).append(row)
    _ensure_space(pdf, 110)
    x, y = MARGIN, pdf.get_y()
    for group, rows in groups.items():
        grid.box(x, y, WIDTH, 7, group, 9, bold_fill=True)
        y += 7
        fields = rows[0]["cells"].keys()
        grid.box(x, y, w_label, 7, "信息内容", 8, bold_fill=True)
        if len(fields) == 3:
            for i, field in enumerate(fields):
                grid.box(x + w_label + i * w_num, y, w_num, 7, PROACTIVE_FIELD_LABELS[field], 8, bold_fill=True)
        else:
            grid.box(x + w_label, y, 3 * w_num, 7, PROACTIVE_FIELD_LABELS[next(iter(fields))], 8, bold_fill=True)
        y += 7
        for row in rows:
            grid.box(x, y, w_label, 7, row["label"], 8)
            values = list(row["cells"].values())
            if len(values) == 3:
                for i, value in enumerate(values):
                    grid.box(x + w_label + i * w_num, y, w_num, 7, _number(value), 8)
            else:
                grid.box(x + w_label, y, 3 * w_num, 7, _number(values[0]), 8)
            y += 7
    pdf.set_xy(MARGIN, y + 2)
    pdf.set_font("cjk", size=8)
    pdf.multi_cell(0, 4.5, table2["source_note"], new_x="LMARGIN", new_y="NEXT")


def _table3(pdf, grid: _Grid, table3: Mapping[str, Any]) -> None:
    a, b1, b2 = 20.0, 24.0, 51.0
    label_w = a + b1 + b2
    num_w = (WIDTH - label_w) / 7
    size = 7.5
    rows = table3["rows"]
    heights = []
    for row in rows:
        if row["category"] is None and row["key"] != "results-total":
            width = label_w
        elif row["key"] in ("disclosed", "partly-disclosed", "results-total"):
            width = b1 + b2
        else:
            width = b2
        text = row["category"] if row["key"] in ("disclosed", "partly-disclosed") else row["label"]
        heights.append(max(6.0, grid.lines(text, width, size) * LINE + 1.5))
    header_h = 7 + 7 + 12
    _ensure_space(pdf, header_h + sum(heights))
    x, y = MARGIN, pdf.get_y()
    columns = table3["columns"]
    # Header: 申请人情况 over all figures; 自然人 | 法人或其他组织 (five) | 总计.
    grid.box(x, y, label_w, header_h, "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 7, bold_fill=True)
    nx = x + label_w
    grid.box(nx, y, 7 * num_w, 7, "申请人情况", 9, bold_fill=True)
    grid.box(nx, y + 7, num_w, 19, columns[0]["label"], size, bold_fill=True)
    grid.box(nx + num_w, y + 7, 5 * num_w, 7, "法人或其他组织", size, bold_fill=True)
    for i, column in enumerate(columns[1:6]):
        grid.box(nx + (1 + i) * num_w, y + 14, num_w, 12, column["label"], size, bold_fill=True)
    grid.box(nx + 6 * num_w, y + 7, num_w, 19, columns[6]["label"], size, bold_fill=True)
    y += header_h
    # Body, with the merged label blocks.
    results_start = next(i for i, r in enumerate(rows) if r["category"] is not None)
    results_end = next(i for i, r in enumerate(rows) if r["key"] == "results-total")
    grid.box(x, y + sum(heights[:results_start]), a, sum(heights[results_start:results_end + 1]),
             "三、本年度办理结果", size)
    i = 0
    while i < len(rows):
        row, h = rows[i], heights[i]
        if row["category"] is None and row["key"] != "results-total":
            grid.box(x, y, label_w, h, row["label"], size, align="L")
        elif row["key"] in ("disclosed", "partly-disclosed", "results-total"):
            grid.box(x + a, y, b1 + b2, h, row["label"] if row["key"] == "results-total" else row["category"], size, align="L")
        else:
            block = [j for j in range(i, len(rows)) if rows[j]["category"] == row["category"]]
            block_h = sum(heights[j] for j in block)
            grid.box(x + a, y, b1, block_h, row["category"], size)
            for j in block:
                grid.box(x + a + b1, y, b2, heights[j], rows[j]["label"], size, align="L")
                _figures(grid, x + label_w, y, num_w, heights[j], rows[j], columns, size)
                y += heights[j]
            i = block[-1] + 1
            continue
        _figures(grid, x + label_w, y, num_w, h, row, columns, size)
        y += h
        i += 1
    pdf.set_xy(MARGIN, y + 2)


def _figures(grid: _Grid, x: float, y: float, w: float, h: float, row, columns, size: float) -> None:
    for k, column in enumerate(columns):
        grid.box(x + k * w, y, w, h, str(row["cells"][column["key"]]), size)


def _table4(pdf, grid: _Grid, table4: Mapping[str, Any]) -> None:
    w = WIDTH / 15
    size = 7.5
    _ensure_space(pdf, 50)
    x, y = MARGIN, pdf.get_y()
    labels = table4["result_labels"]
    groups = table4["groups"]
    grid.box(x, y, 5 * w, 8, "行政复议", 9, bold_fill=True)
    grid.box(x + 5 * w, y, 10 * w, 8, "行政诉讼", 9, bold_fill=True)
    for k, label in enumerate(labels.values()):
        grid.box(x + k * w, y + 8, w, 16, label, size, bold_fill=True)
    grid.box(x + 5 * w, y + 8, 5 * w, 8, "未经复议直接起诉", size, bold_fill=True)
    grid.box(x + 10 * w, y + 8, 5 * w, 8, "复议后起诉", size, bold_fill=True)
    for g in (1, 2):
        for k, label in enumerate(labels.values()):
            grid.box(x + (5 * g + k) * w, y + 16, w, 8, label, size, bold_fill=True)
    y += 24
    for g, group in enumerate(groups):
        for k, key in enumerate(labels):
            grid.box(x + (5 * g + k) * w, y, w, 8, str(group["cells"][key]), 9)
    pdf.set_xy(MARGIN, y + 10)
    pdf.set_font("cjk", size=8)
    pdf.multi_cell(0, 4.5, table4["rule"], new_x="LMARGIN", new_y="NEXT")


def _pdf(title: str, fmt="A4", orientation: str = "portrait"):
    """An fpdf2 document with the CJK font (the report's tables are drawn cell by cell; letters use Typst)."""
    from fpdf import FPDF

    pdf = FPDF(orientation=orientation, unit="mm", format=fmt)
    pdf.set_title(title)
    pdf.set_creator("disclosure-workflow")
    pdf.set_margins(25, 25, 25)
    pdf.set_auto_page_break(True, margin=25)
    font = find_cjk_font()
    pdf.add_font("cjk", fname=str(font), **({"collection_font_number": 0} if font.suffix == ".ttc" else {}))
    return pdf


def render_report_pdf(report: Mapping[str, Any], *, status_line: str, generated_on: date) -> bytes:
    pdf = _pdf(report["title"])
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.set_creation_date(datetime.combine(generated_on, time(0, 0), tzinfo=timezone.utc))
    pdf.add_page()
    grid = _Grid(pdf)
    pdf.set_font("cjk", size=18)
    pdf.multi_cell(0, 10, report["title"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    pdf.cell(0, 6, status_line, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("cjk", size=11)
    pdf.multi_cell(0, 6.5, f"本报告依据《中华人民共和国政府信息公开条例》第五十条和{report['format']}编制。"
                           "报告中所列数据的统计期限自" f"{report['year']}年1月1日起至{report['year']}年12月31日止。",
                   new_x="LMARGIN", new_y="NEXT")
    for section in report["sections"]:
        _heading(pdf, section["title"])
        _paragraphs(pdf, section["text"])
        if section["key"] == "proactive":
            _table2(pdf, grid, report["table2"])
        elif section["key"] == "applications":
            _table3(pdf, grid, report["table3"])
            check = report["check"]
            pdf.set_font("cjk", size=8)
            pdf.multi_cell(0, 4.5, "校验（一＋二＝三（七）＋四）：" + ("各列均相符" if check["ok"] else "；".join(check["problems"])),
                           new_x="LMARGIN", new_y="NEXT")
        elif section["key"] == "remedies":
            _table4(pdf, grid, report["table4"])
        elif section["key"] == "other":
            fees = report["fees"]
            pdf.set_font("cjk", size=9)
            pdf.multi_cell(0, 5, "信息处理费：" + ("；".join(f"{r['label']} {r['value']}" for r in fees["rows"]) if fees.get("rows") else
                                 f"收费{fees['charged_applications']}件，金额{fees['amount_yuan']}元，减免{fees['waived_applications']}件")
                           + f"。{fees['note']}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
