"""Text per page of an accepted file (release/intake.py), each character with its place.

- PDF: the text layer (PDFium), character by character with its box; a page with (almost) no text
  layer is a scan and is OCRed from its pixels at 300 dpi.
- PNG/JPEG/TIFF: OCR (every frame of a multi-page TIFF).
- DOCX, XLSX, CSV: rendered as PDF pages (release/render.py) with every character's place and its
  sheet/cell, plus the tables as tables (for the unit-level table check).
"""

import io

from PIL import Image, ImageSequence

from release import ocr
from release.pages import ExtractedFile, PageText
from release.render import csv_blocks, docx_blocks, render_blocks, xlsx_blocks

# A page with fewer characters than this in its text layer is treated as a scan.
MIN_TEXT_LAYER_CHARS = 8


def extract(kind: str, data: bytes, *, name: str = "file", ocr_scans: bool = True, progress=None) -> ExtractedFile:
    """`progress(pages_done, pages_total)` is called as pages are read (the screening's progress)."""
    if kind == "pdf":
        return ExtractedFile(kind, pdf_pages(data, ocr_scans=ocr_scans, progress=progress), data)
    if kind in ("png", "jpeg", "tiff"):
        images = image_frames(data)
        pages = []
        for i, image in enumerate(images, start=1):
            if ocr_scans:
                pages.append(ocr_page(i, image))
            if progress:
                progress(i, len(images))
        return ExtractedFile(kind, pages, images_to_pdf(images))
    if kind == "docx":
        pdf, pages = render_blocks(docx_blocks(data))
    elif kind == "xlsx":
        pdf, pages = render_blocks(xlsx_blocks(data))
    elif kind == "csv":
        stem = name.rsplit(".", 1)[0] or "CSV"
        pdf, pages = render_blocks(csv_blocks(data, stem))
    else:
        raise ValueError(f"unknown kind {kind}")
    return ExtractedFile(kind, pages, pdf)


def pdf_pages(data: bytes, *, ocr_scans: bool = True, progress=None) -> list[PageText]:
    import pypdfium2
    import pypdfium2.raw as raw

    document = pypdfium2.PdfDocument(data)
    pages = []
    try:
        for index in range(len(document)):
            page = document[index]
            width, height = page.get_size()
            textpage = page.get_textpage()
            result = PageText(page=index + 1, source="text-layer")
            count = raw.FPDFText_CountChars(textpage)
            left, right, bottom, top = (raw.c_double(), raw.c_double(), raw.c_double(), raw.c_double())
            for i in range(count):
                code = raw.FPDFText_GetUnicode(textpage, i)
                char = chr(code) if code else ""
                if not char or char == "\r":
                    continue
                box = None
                if not raw.FPDFText_IsGenerated(textpage, i) and raw.FPDFText_GetCharBox(
                    textpage, i, left, right, bottom, top
                ):
                    if right.value > left.value:
                        box = _page_fraction(left.value, top.value, right.value, bottom.value, width, height)
                result.add(char, box)
            textpage.close()
            if ocr_scans and len(result.text.strip()) < MIN_TEXT_LAYER_CHARS:
                image = page.render(scale=ocr.OCR_DPI / 72).to_pil()
                result = ocr_page(index + 1, image)
            page.close()
            pages.append(result)
            if progress and (result.source == "ocr" or (index + 1) % 20 == 0 or index + 1 == len(document)):
                progress(index + 1, len(document))
    finally:
        document.close()
    return pages


def _page_fraction(x0: float, y_top: float, x1: float, y_bottom: float, width: float, height: float):
    # PDF user space has its origin bottom-left; ours is top-left.
    return (
        max(0.0, x0 / width),
        max(0.0, (height - y_top) / height),
        min(1.0, x1 / width),
        min(1.0, (height - y_bottom) / height),
    )


def ocr_page(number: int, image: Image.Image) -> PageText:
    image = image.convert("RGB")
    words = ocr.ocr_words(image)
    result = PageText(page=number, source="ocr")
    previous_line = None
    previous_text = ""
    for word in words:
        if previous_line is not None and word.line != previous_line:
            result.add("\n", None)
            previous_text = ""
        elif previous_text:
            result.add(ocr.joiner(previous_text, word.text), None)
        box = (
            word.left / image.width,
            word.top / image.height,
            (word.left + word.width) / image.width,
            (word.top + word.height) / image.height,
        )
        # The word's box shared out over its characters by their share of the word's width.
        n = len(word.text)
        for k, ch in enumerate(word.text):
            x0 = box[0] + (box[2] - box[0]) * k / n
            x1 = box[0] + (box[2] - box[0]) * (k + 1) / n
            result.add(ch, (x0, box[1], x1, box[3]))
        previous_line = word.line
        previous_text = word.text
    return result


def image_frames(data: bytes) -> list[Image.Image]:
    with Image.open(io.BytesIO(data)) as image:
        return [frame.convert("RGB") for frame in ImageSequence.Iterator(image)]


def images_to_pdf(images: list[Image.Image], dpi: int = ocr.OCR_DPI) -> bytes:
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return out.getvalue()
