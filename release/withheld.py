"""What a redaction withholds, as areas to burn in and strings that must not survive (Reg. 37)."""

from release.detect import FileFinding
from release.pages import Box, PageText
from release.redact import Area


def areas_for(findings: list[tuple[FileFinding, str]], drawn: list[Area]) -> list[Area]:
    """The areas to burn: each chosen finding's place with its basis, and the drawn areas."""
    areas = [Area(f.page, f.place, basis) for f, basis in findings if f.place is not None]
    return areas + drawn


def withheld_strings(pages: list[PageText], areas: list[Area]) -> list[str]:
    """The text of the original under each area: every run of characters whose centre lies inside it."""
    by_page = {p.page: p for p in pages}
    strings = []
    for area in areas:
        page = by_page.get(area.page)
        if page is None:
            continue
        run: list[str] = []
        for char, box in zip(page.chars, page.boxes):
            if box is not None and _inside(box, area.box):
                run.append(char)
            elif run and box is not None:
                strings.append("".join(run))
                run = []
        if run:
            strings.append("".join(run))
    return [s for s in strings if s.strip()]


def _inside(char: Box, area: Box) -> bool:
    cx, cy = (char[0] + char[2]) / 2, (char[1] + char[3]) / 2
    return area[0] <= cx <= area[2] and area[1] <= cy <= area[3]
