"""Redaction that removes (Reg. 37 区分处理; RULES §14): the released copy is rebuilt from page pixels.

The approach of dangerzone: each page of the file (a PDF, a scan wrapped as PDF, or DOCX/XLSX/CSV
rendered, release/render.py) is rendered to pixels by PDFium; the withheld areas are painted over
in those pixels, each with its legal basis written in the box; a new PDF is made of the pixels
alone. Nothing of the original's objects is carried: not its text layer, document info, XMP,
annotations (not even drawn), form fields, embedded files, optional content or earlier revisions.
Optionally tesseract adds an invisible text layer made from the redacted pixels, so the released
copy stays searchable without a character of what was withheld. release/verify.py checks the result.
"""

import io
from dataclasses import dataclass
from functools import partial

from PIL import Image, ImageDraw, ImageFont

from letters.documents import find_cjk_font
from release import ocr
from release.pages import Box

RELEASE_DPI = 200
# Boxes grow by this fraction of the page on each side: a glyph's ink may pass its box a little.
PAD = 0.002


@dataclass(frozen=True)
class Area:
    page: int  # 1-based
    box: Box  # fractions of the page, origin top-left
    basis: str  # the legal basis shown in the box, e.g. "条例第十五条"


def redact_pdf(pdf: bytes, areas: list[Area], *, dpi: int = RELEASE_DPI, text_layer: bool = True) -> bytes:
    """The released PDF: every page rebuilt from its pixels with `areas` burned in."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)

    def rendered():
        for index in range(len(document)):
            page = document[index]
            image = page.render(scale=dpi / 72, draw_annots=False, may_draw_forms=False).to_pil().convert("RGB")
            page.close()
            burn(image, [a for a in areas if a.page == index + 1])
            yield (image,)

    try:
        # a one-page PDF per page (tesseract's: pixels + invisible text; or Pillow's: pixels), made side by
        # side while the next pages render, at most a few page images in memory at once
        make_page = ocr.ocr_pdf_page if text_layer else partial(_pixels_page, dpi=dpi)
        return _assemble(ocr.bounded_map(make_page, rendered()))
    finally:
        document.close()


def _pixels_page(image: Image.Image, *, dpi: int) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PDF", resolution=dpi)
    return out.getvalue()


def burn(image: Image.Image, areas: list[Area]) -> None:
    """Paint each area black, its basis in white inside it (shrunk to fit; left out if it cannot fit)."""
    draw = ImageDraw.Draw(image)
    w, h = image.size
    for area in areas:
        x0 = max(0, int((area.box[0] - PAD) * w))
        y0 = max(0, int((area.box[1] - PAD) * h))
        x1 = min(w, int((area.box[2] + PAD) * w) + 1)
        y1 = min(h, int((area.box[3] + PAD) * h) + 1)
        draw.rectangle((x0, y0, x1, y1), fill=(0, 0, 0))
        _label(draw, area.basis, (x0, y0, x1, y1))


_FONTS: dict[int, ImageFont.FreeTypeFont] = {}


def _font(size: int) -> ImageFont.FreeTypeFont:
    if size not in _FONTS:
        _FONTS[size] = ImageFont.truetype(str(find_cjk_font()), size)
    return _FONTS[size]


def _label(draw: ImageDraw.ImageDraw, text: str, box: tuple[int, int, int, int]) -> None:
    x0, y0, x1, y1 = box
    size = max(6, min(int((y1 - y0) * 0.7), 28))
    while size >= 6:
        left, top, right, bottom = draw.textbbox((0, 0), text, font=_font(size))
        if right - left <= (x1 - x0) - 4 and bottom - top <= (y1 - y0) - 2:
            cx = x0 + ((x1 - x0) - (right - left)) / 2 - left
            cy = y0 + ((y1 - y0) - (bottom - top)) / 2 - top
            draw.text((cx, cy), text, font=_font(size), fill=(255, 255, 255))
            return
        size -= 1


def _assemble(parts: list[bytes]) -> bytes:
    """One new PDF of the pages of `parts`, with no document info, XMP or anything else at its root."""
    import pikepdf

    out = pikepdf.new()
    for part in parts:
        with pikepdf.open(io.BytesIO(part)) as source:
            out.pages.extend(source.pages)
    for page in out.pages:
        for key in ("/Annots", "/AA", "/Metadata", "/PieceInfo"):
            if key in page.obj:
                del page.obj[key]
    if "/Info" in out.trailer:
        del out.trailer["/Info"]
    buffer = io.BytesIO()
    out.save(buffer, deterministic_id=True, fix_metadata_version=False, compress_streams=True)
    return buffer.getvalue()


def image_of_page(pdf: bytes, page: int, *, dpi: int = 100) -> bytes:
    """A PNG of one page (the reviewer's page image)."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[page - 1].render(scale=dpi / 72, draw_annots=False).to_pil().convert("RGB")
    finally:
        document.close()
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
