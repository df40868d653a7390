"""Text of a file page by page, each character with its place on the page.

A place is a box in fractions of the page (x0, y0, x1, y1; origin top-left), so that it is the same
place on any rendering of the page (the reviewer's page image at any resolution, the redaction's
pixels). Spreadsheet characters also carry their sheet and cell ("表1!C3").
"""

from dataclasses import dataclass, field

Box = tuple[float, float, float, float]


@dataclass
class PageText:
    page: int  # 1-based page of the file (of its rendering, for DOCX/XLSX/CSV)
    source: str  # "text-layer" | "ocr" | "cells"
    chars: list[str] = field(default_factory=list)
    boxes: list[Box | None] = field(default_factory=list)
    refs: list[str | None] = field(default_factory=list)  # sheet!cell per character, spreadsheets only
    tables: list["Table"] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.chars)

    def add(self, text: str, box: Box | None, ref: str | None = None) -> None:
        self.chars.extend(text)
        self.boxes.extend([box] * len(text))
        self.refs.extend([ref] * len(text))

    def box_of(self, start: int, end: int) -> Box | None:
        """The union of the boxes of characters [start, end)."""
        boxes = [b for b in self.boxes[start:end] if b is not None]
        if not boxes:
            return None
        return (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )

    def ref_of(self, start: int, end: int) -> str | None:
        refs = [r for r in self.refs[start:end] if r]
        return refs[0] if refs else None


@dataclass
class TableCell:
    text: str
    ref: str | None
    box: Box | None
    page: int | None = None


@dataclass
class Table:
    """A table as it was in the file (DOCX table, XLSX sheet, CSV): rows of cells."""

    name: str
    rows: list[list[TableCell]]


@dataclass
class ExtractedFile:
    kind: str
    pages: list[PageText]
    pdf: bytes  # the file as PDF pages: itself, a scan wrapped, or DOCX/XLSX/CSV rendered (release/render.py)
