"""Documents: the 文号 (document number) of each kind of letter, and the letter as a PDF with Chinese text.

Pure apart from reading the font file. The PDF is rendered once per document (at issue) and stored;
what is sent, printed or downloaded afterwards is those stored bytes, never a re-rendering.

Font: a TrueType CJK font installed by the project's set-up (`make test` / the Dockerfile install
Debian's fonts-wqy-zenhei); DISCLOSURE_PDF_FONT_PATH points at another TrueType/TTC font.
"""

import io
import logging
import os
from datetime import date, datetime, time, timezone
from pathlib import Path

from activities.models import LetterKind

# fontTools complains about the bitmap tables of WenQuanYi while subsetting; they are not needed.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
)

# The series word of each kind in the 文号, e.g. 某统依公〔2026〕第12号 for replies.
SERIES: dict[str, str] = {
    "reply": "依公",
    "acknowledgment": "依公回",
    "supplement-notice": "依公补",
    "extension-notice": "依公延",
    "consultation-letter": "依公征",
    "agency-consultation-letter": "依公商",
    "override-notice": "依公决",
    "fee-notice": "依公费",
}


class FontMissing(RuntimeError):
    """No CJK font: PDFs cannot be rendered with correct Chinese text."""


def document_number(prefix: str, kind: LetterKind, year: int, seq: int) -> str:
    return f"{prefix}{SERIES[kind]}〔{year}〕第{seq}号"


def find_cjk_font() -> Path:
    configured = os.environ.get("DISCLOSURE_PDF_FONT_PATH", "").strip()
    for candidate in ([Path(configured)] if configured else []) + list(FONT_CANDIDATES):
        if candidate.is_file():
            return candidate
    raise FontMissing(
        "no CJK TrueType font found (install Debian's fonts-wqy-zenhei, or set DISCLOSURE_PDF_FONT_PATH)"
    )


def _pdf(title: str, fmt="A4", orientation: str = "portrait"):
    from fpdf import FPDF

    pdf = FPDF(orientation=orientation, unit="mm", format=fmt)
    pdf.set_title(title)
    pdf.set_creator("disclosure-workflow")
    pdf.set_margins(25, 25, 25)
    pdf.set_auto_page_break(True, margin=25)
    font = find_cjk_font()
    pdf.add_font("cjk", fname=str(font), **({"collection_font_number": 0} if font.suffix == ".ttc" else {}))
    return pdf


def _issued_at(day: date) -> datetime:
    # Fixed per document, so the same text, number and date always give the same bytes.
    return datetime.combine(day, time(0, 0), tzinfo=timezone.utc)


def render_letter_pdf(body: str, *, number: str | None, issued_on: date, draft: bool = False) -> bytes:
    """The letter: title centred, its 文号 beneath, the text, signature and date to the right.

    `body` is the letter's text as composed (letters.compose) or as edited and approved; its first
    paragraph is the title and its last the agency and date, as compose_letter lays it out.
    """
    paragraphs = [p for p in body.split("\n\n") if p.strip()]
    title, rest = (paragraphs[0], paragraphs[1:]) if paragraphs else ("", [])
    signature = rest.pop() if len(rest) > 1 else None
    pdf = _pdf(title)
    pdf.set_creation_date(_issued_at(issued_on))
    pdf.add_page()
    if draft:
        pdf.set_font("cjk", size=11)
        pdf.set_text_color(200, 0, 0)
        pdf.cell(0, 6, "草稿（未签发，仅供审阅）", align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", size=20)
    pdf.multi_cell(0, 11, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 8, number or "文号：（签发时编号）", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("cjk", size=13)
    for paragraph in rest:
        pdf.multi_cell(0, 7.5, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    if signature:
        pdf.ln(6)
        for line in signature.split("\n"):
            pdf.cell(0, 8, line, align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def render_envelope_pdf(*, recipient_name: str, address: str, sender: str, number: str, issued_on: date) -> bytes:
    """A DL envelope (220 × 110 mm): addressee, address, the agency as sender, the 文号 for the mail register."""
    pdf = _pdf(f"信封 {number}", fmt=(110, 220), orientation="landscape")
    pdf.set_creation_date(_issued_at(issued_on))
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("cjk", size=11)
    pdf.set_xy(15, 12)
    pdf.cell(0, 6, "邮政编码：□□□□□□")
    pdf.set_xy(30, 40)
    pdf.set_font("cjk", size=14)
    pdf.multi_cell(160, 8, address or "（地址未登记，请核实）")
    pdf.set_xy(30, 62)
    pdf.set_font("cjk", size=20)
    pdf.cell(160, 10, f"{recipient_name}　收", align="C")
    pdf.set_font("cjk", size=11)
    pdf.set_xy(100, 88)
    pdf.cell(105, 6, f"寄件人：{sender}", align="R")
    pdf.set_xy(100, 95)
    pdf.cell(105, 6, f"文号：{number}", align="R")
    return bytes(pdf.output())


def pdf_text(data: bytes) -> str:
    """The text of every page (pypdf), for checks."""
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
