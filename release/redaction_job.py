"""One redaction from start to verdict: the areas burned in, then the copy verified (release/verify.py)."""

from datetime import date

from release.extract import extract
from release.redact import Area, redact_pdf
from release.verify import verify_redacted
from release.withheld import withheld_strings


def redact_and_verify(pages_pdf: bytes, original: bytes, kind: str, areas: list[dict], *, text_layer: bool = True):
    """(the released PDF, problems); `areas` as recorded: page, box, basis (finding_seq or None).

    The withheld strings are read from the pages screened (text layer or OCR, as the screening read them)."""
    chosen = [Area(a["page"], tuple(a["box"]), a["basis"]) for a in areas]
    if kind == "pdf":
        pages = extract("pdf", pages_pdf).pages
    elif kind in ("png", "jpeg", "tiff"):
        pages = extract(kind, original).pages
    else:
        pages = extract(kind, original).pages  # the rendering's own character places (release/render.py)
    withheld = withheld_strings(pages, chosen)
    released = redact_pdf(pages_pdf, chosen, text_layer=text_layer)
    check = verify_redacted(released, withheld)
    return released, check.problems
