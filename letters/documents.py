"""Documents: the 文号 (document number) of each kind of letter, and the letter as a PDF with Chinese text.

Pure apart from reading the font and the templates. The PDF is rendered once per document (at issue)
and stored; what is sent, printed or downloaded afterwards is those stored bytes, never a re-rendering.

Engine: Typst (the `typst` package, its compiler in Rust), with the templates in letters/templates/.
Measured on 2026-11-30 (bench/letters.py, bench/RESULTS.md): fpdf2 spent about 210-300 ms of CPU per
letter, three quarters of it parsing the 45,000-glyph font again for every letter (fontTools) and most
of the rest subsetting it in Python; caching the parsed font would still have left the fontTools
subsetting (tens of ms) and our own Chinese line breaking to write. One Typst compiler per process keeps
the font indexed and its parsed faces and layouts cached between letters: about 3 ms of CPU per letter,
fonts embedded as subsets, and Chinese line breaking (禁则) and punctuation compression built in.
A compiler is not re-entrant: renders take turns on a lock (the worker runs at most two at once, each a
few ms). The templates get every text as a JSON string in `sys.inputs`, never as markup.

Font: a TrueType CJK font installed by the project's set-up (`make test` / the Dockerfile install
Debian's fonts-wqy-zenhei); DISCLOSURE_PDF_FONT_PATH points at another TrueType/TTC font (its face 0).
"""

import io
import json
import os
import re
import threading
from datetime import date, datetime, time, timezone
from functools import cache
from pathlib import Path

from contracts.models import LetterKind

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
)
TEMPLATES = Path(__file__).with_name("templates")

# The series word of each kind in the 文号, e.g. 某统依公〔2026〕第12号 for replies.
SERIES: dict[str, str] = {
    "reply": "依公",
    "acknowledgment": "依公回",
    "supplement-notice": "依公补",
    "extension-notice": "依公延",
    "reasons-request": "依公询",
    "reasonable-period-notice": "依公期",
    "consultation-letter": "依公征",
    "agency-consultation-letter": "依公商",
    "override-notice": "依公决",
    "correction-made": "依公更",
    "correction-forwarded": "依公转",
    "correction-refused": "依公不更",
    "objection-unreasonable-notice": "依公异",
    "fee-notice": "依公费",
}

DRAFT_MARK = "草稿（未签发，仅供审阅）"
UNNUMBERED = "文号：（签发时编号）"

# Units that never break across lines: 第（二）项, 第三十六条, 第12号 (a citation read as one word).
_KEEP = re.compile(r"第(?:（[一二三四五六七八九十]+）|[一二三四五六七八九十百零〇0-9]{1,5})[条款项号]")
# A web link (ASCII up to the first non-ASCII character): on its own line, where it may break anywhere.
_LINK = re.compile(r"https?://[!-~]+")
# "（申请编号：GK-2026-000123）": a reference line under the title.
_REFERENCE = re.compile(r"（[^\n（）]*）")
_KEEP_LAST_WITH_SIGNATURE = 160  # characters: a longer last paragraph may be split across pages


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


class _Typesetter:
    """One Typst compiler for one font, kept for the life of the process; renders take turns."""

    def __init__(self, font: Path) -> None:
        import typst

        # Typst searches folders, not files: the font's folder, and the family of the font's face 0 in it.
        fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False, font_paths=[str(font.parent)])
        wanted = os.path.realpath(font)
        faces = [f for f in fonts.fonts() if f.path and os.path.realpath(f.path) == wanted and f.index == 0]
        if not faces:
            raise FontMissing(f"{font}: not a TrueType/OpenType font Typst can read")
        self.family = faces[0].family
        self._compiler = typst.Compiler(root=str(TEMPLATES), font_paths=fonts, ignore_system_fonts=True)
        self._lock = threading.Lock()

    def pdf(self, template: str, data: dict, issued_on: date) -> bytes:
        source = _template(template)
        inputs = {template.removesuffix(".typ"): json.dumps({**data, "font": self.family}, ensure_ascii=False)}
        with self._lock:
            return self._compiler.compile(input=source, format="pdf", sys_inputs=inputs,
                                          timestamp=_issued_at(issued_on))


_typesetters: dict[Path, _Typesetter] = {}
_typesetters_lock = threading.Lock()


def _typesetter() -> _Typesetter:
    font = find_cjk_font()
    with _typesetters_lock:
        if font not in _typesetters:
            _typesetters[font] = _Typesetter(font)
        return _typesetters[font]


@cache
def _template(name: str) -> bytes:
    return (TEMPLATES / name).read_bytes()


def _issued_at(day: date) -> datetime:
    # Fixed per document, so the same text, number and date always give the same bytes.
    return datetime.combine(day, time(0, 0), tzinfo=timezone.utc)


def _segments(line: str) -> list[dict]:
    """A line as runs of text, units kept whole, and links."""
    out: list[dict] = []

    def text(run: str) -> None:
        position = 0
        for match in _KEEP.finditer(run):
            if match.start() > position:
                out.append({"kind": "text", "text": run[position:match.start()]})
            out.append({"kind": "keep", "text": match.group()})
            position = match.end()
        if position < len(run):
            out.append({"kind": "text", "text": run[position:]})

    position = 0
    for match in _LINK.finditer(line):
        text(line[position:match.start()])
        out.append({"kind": "link", "text": match.group()})
        position = match.end()
    text(line[position:])
    return out


def letter_layout(body: str, *, number: str | None, draft: bool = False) -> dict:
    """The parts of a letter as the template places them (GB/T 9704-2012).

    `body` is the letter's text as composed (letters.compose) or as edited and approved: its first
    paragraph is the title, then the reference line, the addressee ("张三："), the text, and last the
    agency and the date, as compose_letter lays it out. An edited text that lacks a part still renders:
    the part is left out.
    """
    paragraphs = [p.strip("\n") for p in body.split("\n\n") if p.strip()]
    title, rest = (paragraphs[0], paragraphs[1:]) if paragraphs else ("", [])
    closing = [line for line in rest.pop().split("\n") if line.strip()] if len(rest) > 1 else []
    reference = rest.pop(0) if rest and _REFERENCE.fullmatch(rest[0]) else None
    addressee = None
    if rest and "\n" not in rest[0] and rest[0].endswith(("：", ":")) and len(rest[0]) <= 40:
        addressee = rest.pop(0)
    lines = [line for paragraph in rest for line in paragraph.split("\n") if line.strip()]
    return {
        "title": title,
        "number": number or UNNUMBERED,
        "reference": reference,
        "addressee": addressee,
        "paragraphs": [_segments(line) for line in lines],
        "keep_last": bool(lines) and len(lines[-1]) <= _KEEP_LAST_WITH_SIGNATURE,
        "closing": closing,
        "author": closing[0] if len(closing) > 1 else "",
        "draft": draft,
        "draft_mark": DRAFT_MARK,
    }


def render_letter_pdf(body: str, *, number: str | None, issued_on: date, draft: bool = False) -> bytes:
    """The letter as a PDF: title, 文号, addressee, text, agency and date with room for the seal."""
    return _typesetter().pdf("letter.typ", letter_layout(body, number=number, draft=draft), issued_on)


def render_envelope_pdf(*, recipient_name: str, address: str, sender: str, number: str, issued_on: date) -> bytes:
    """A DL envelope (220 × 110 mm): addressee, address, the agency as sender, the 文号 for the mail register."""
    data = {
        "title": f"信封 {number}",
        "postcode": "邮政编码：□□□□□□",
        "address": address or "（地址未登记，请核实）",
        "recipient": f"{recipient_name}　收",
        "sender": sender,
        "sender_line": f"寄件人：{sender}",
        "number_line": f"文号：{number}",
    }
    return _typesetter().pdf("envelope.typ", data, issued_on)


def pdf_text(data: bytes) -> str:
    """The text of every page (pypdf), for checks."""
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
