"""DOCX, XLSX and CSV as PDF pages (fpdf2, the CJK font of the letters), with every character's place.

What is released from such a file is this rendering (redacted like any PDF: release/redact.py), so
what the reviewer sees and screens is what leaves: the document body's paragraphs and tables, the
sheets' cells. Parts not rendered (comments, headers, hidden sheets' formulas, macros, embedded
objects) never leave the agency.
"""

import csv
import io
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass

from letters.documents import find_cjk_font
from release.intake import decode_text
from release.pages import PageText, Table, TableCell

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MARGIN = 15.0  # mm
FONT_SIZE = 10.0
LINE = 5.0  # mm per line
CELL_PAD = 1.2
MAX_COLUMNS = 40


@dataclass
class Block:
    """A paragraph (one cell, full width) or a table (rows of cells)."""

    rows: list[list[tuple[str, str | None]]]  # (text, ref)
    table: str | None  # table name, None for a paragraph


def docx_blocks(data: bytes) -> list[Block]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = ET.fromstring(archive.read("word/document.xml"))
    body = root.find(f"{W}body")
    blocks: list[Block] = []
    tables = 0
    for child in list(body) if body is not None else []:
        if child.tag == f"{W}p":
            blocks.append(Block([[(_paragraph_text(child), None)]], None))
        elif child.tag == f"{W}tbl":
            tables += 1
            rows = []
            for r, tr in enumerate(child.iter(f"{W}tr"), start=1):
                cells = []
                for c, tc in enumerate(tr.findall(f"{W}tc"), start=1):
                    text = "\n".join(_paragraph_text(p) for p in tc.iter(f"{W}p"))
                    cells.append((text, f"表格{tables}!第{r}行第{c}列"))
                rows.append(cells)
            blocks.append(Block(rows, f"表格{tables}"))
    return blocks


def _paragraph_text(paragraph: ET.Element) -> str:
    parts = []
    for node in paragraph.iter():
        if node.tag == f"{W}t" and node.text:
            parts.append(node.text)
        elif node.tag == f"{W}tab":
            parts.append("\t")
        elif node.tag in (f"{W}br", f"{W}cr"):
            parts.append("\n")
    return "".join(parts)


def xlsx_blocks(data: bytes) -> list[Block]:
    import openpyxl
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    blocks = []
    try:
        for sheet in workbook.worksheets:
            rows = []
            for r, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                rows.append(
                    [
                        ("" if value is None else _cell_text(value), f"{sheet.title}!{get_column_letter(c)}{r}")
                        for c, value in enumerate(row[:MAX_COLUMNS], start=1)
                    ]
                )
            rows = _trim(rows)
            if rows:
                blocks.append(Block([[(f"工作表：{sheet.title}", None)]], None))
                blocks.append(Block(rows, sheet.title))
    finally:
        workbook.close()
    return blocks


def csv_blocks(data: bytes, name: str = "CSV") -> list[Block]:
    from openpyxl.utils import get_column_letter

    text = decode_text(data) or ""
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    rows = [
        [(value, f"{name}!{get_column_letter(c)}{r}") for c, value in enumerate(row[:MAX_COLUMNS], start=1)]
        for r, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1)
    ]
    rows = _trim(rows)
    return [Block(rows, name)] if rows else []


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _trim(rows: list[list[tuple[str, str | None]]]) -> list[list[tuple[str, str | None]]]:
    while rows and not any(text.strip() for text, _ in rows[-1]):
        rows.pop()
    width = max((max((i + 1 for i, (t, _) in enumerate(row) if t.strip()), default=0) for row in rows), default=0)
    return [row[:width] for row in rows]


def render_blocks(blocks: list[Block]) -> tuple[bytes, list[PageText]]:
    """The blocks as A4 pages (landscape when a table is wider than 6 columns); each character's box."""
    from fpdf import FPDF

    widest = max((max(len(row) for row in b.rows) for b in blocks if b.table), default=0)
    pdf = FPDF(orientation="landscape" if widest > 6 else "portrait", unit="mm", format="A4")
    pdf.set_creator("disclosure-workflow")
    pdf.set_auto_page_break(False)
    font = find_cjk_font()
    pdf.add_font("cjk", fname=str(font), **({"collection_font_number": 0} if font.suffix == ".ttc" else {}))
    pdf.set_font("cjk", size=FONT_SIZE)
    page_w, page_h = pdf.w, pdf.h
    pages: list[PageText] = []
    widths: dict[str, float] = {}

    def width(ch: str) -> float:
        if ch not in widths:
            widths[ch] = pdf.get_string_width(ch)
        return widths[ch]

    def new_page() -> None:
        pdf.add_page()
        pages.append(PageText(page=len(pages) + 1, source="cells"))

    def wrap(text: str, room: float) -> list[tuple[str, bool]]:
        """Lines of at most `room` mm, each with whether a real line break follows it (a soft wrap
        adds nothing to the page's text, so a value wrapped in a narrow cell is still one value)."""
        lines: list[tuple[str, bool]] = []
        for raw in text.replace("\t", "    ").split("\n"):
            line, used = "", 0.0
            for ch in raw:
                if used + width(ch) > room and line:
                    lines.append((line, False))
                    line, used = "", 0.0
                line += ch
                used += width(ch)
            lines.append((line, True))
        return lines or [("", True)]

    def draw(x: float, y: float, lines: list[tuple[str, bool]], ref: str | None) -> None:
        page = pages[-1]
        for i, (line, hard) in enumerate(lines):
            baseline = y + CELL_PAD + i * LINE + LINE * 0.75
            pdf.text(x + CELL_PAD, baseline, line)
            cx = x + CELL_PAD
            for ch in line:
                w = width(ch)
                top = baseline - FONT_SIZE * 0.3528 * 0.88
                bottom = baseline + FONT_SIZE * 0.3528 * 0.12
                page.add(ch, (cx / page_w, top / page_h, (cx + w) / page_w, bottom / page_h), ref)
                cx += w
            if hard and i < len(lines) - 1:
                page.add("\n", None, ref)

    new_page()
    y = MARGIN
    usable = page_w - 2 * MARGIN
    for block in blocks:
        if block.table is None:
            text, ref = block.rows[0][0]
            lines = wrap(text, usable - 2 * CELL_PAD)
            for line, hard in lines:
                if y + LINE + 2 * CELL_PAD > page_h - MARGIN:
                    new_page()
                    y = MARGIN
                draw(MARGIN, y, [(line, hard)], ref)
                if hard:
                    pages[-1].add("\n", None)
                y += LINE
            y += LINE * 0.4
            continue
        columns = max(len(row) for row in block.rows)
        column_w = usable / columns
        table = Table(name=block.table, rows=[])
        pages[-1].tables.append(table)
        for row in block.rows:
            wrapped = [wrap(text, column_w - 2 * CELL_PAD) for text, _ in row]
            height = max(len(lines) for lines in wrapped) * LINE + 2 * CELL_PAD
            if y + height > page_h - MARGIN:
                new_page()
                y = MARGIN
            cells = []
            for c, ((text, ref), lines) in enumerate(zip(row, wrapped)):
                x = MARGIN + c * column_w
                pdf.rect(x, y, column_w, height)
                draw(x, y, lines, ref)
                pages[-1].add("\t", None)
                cells.append(
                    TableCell(
                        text=text,
                        ref=ref,
                        box=(x / page_w, y / page_h, (x + column_w) / page_w, (y + height) / page_h),
                        page=pages[-1].page,
                    )
                )
            pages[-1].add("\n", None)
            table.rows.append(cells)
            y += height
        y += LINE
    return bytes(pdf.output()), pages
