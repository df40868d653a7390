"""Every kind of letter as printed: Chinese line breaking (禁则), units kept whole, the layout of an
official document (GB/T 9704-2012), fonts embedded as subsets, and PNGs of every page for a person
(build/screenshots/letters/).

The lines are the PDF's own, as poppler reads them back (`pdftotext -layout` for the text of each line,
`pdftotext -bbox-layout` for where each line sits on the page).
"""

import re
import subprocess
from datetime import date
from html import unescape
from pathlib import Path
from typing import get_args

import pytest

from contracts.models import ComposeLetterInput, LetterKind, ReplyItem
from letters.compose import compose_letter
from letters.documents import document_number, pdf_text, render_letter_pdf
from outcomes import OutcomeCode
from tests.letters_support import REPO_ROOT, require_pdf_tools

SCREENSHOTS = REPO_ROOT / "build" / "screenshots" / "letters"
CLOSING = "）】」』〕》，。、；：？！"  # never at a line's start
OPENING = "（【「『〔《"  # never at a line's end
UNIT = re.compile(r"第（[一二三四五六七八九十]+）项")

# GB/T 9704-2012 5.2.1: A4, 天头 37 mm, 订口 28 mm, 版心 156 × 225 mm; 5.2.2: 22 lines of 28 characters.
MM = 72 / 25.4
LEFT, RIGHT = 28 * MM, (28 + 156) * MM
CHAR = 156 * MM / 28
PITCH = 225 * MM / 22
AGENCY, LETTER_DATE = "某市统计局", "2026年3月5日"


@pytest.fixture(autouse=True)
def _tools():
    require_pdf_tools()


def punctuated(shift: int, count: int = 30) -> str:
    """Clauses of every length with every kind of punctuation after them: wherever the lines end, some
    line would end before a closing mark or after an opening one unless the breaking prevents it."""
    words = "统计调查资料数据执法检查记录排污许可年度报告原始登记表"
    marks = "，、；：。？！"
    clauses = []
    for k in range(shift, shift + count):
        filler = words[k % 7: k % 7 + k % 9 + 1]
        clauses.append([f"《{filler}》", f"（{filler}）", f"【{filler}】「{filler[:2]}」", f"『{filler}』",
                        f"依照第（{'一二三四五六七'[k % 7]}）项{filler}"][k % 5] + marks[k % len(marks)])
    return "".join(clauses)


def letter_input(kind: str, **fields) -> ComposeLetterInput:
    return ComposeLetterInput(application_id="GK-2026-000012", kind=kind, agency_name=AGENCY, recipient_name="张三",
                              letter_date=date(2026, 3, 5), received_on=date(2026, 3, 2), **fields)


def items(shift: int) -> list[ReplyItem]:
    return [ReplyItem(item_no=n, description=f"某企业2025年排污统计数据{punctuated(shift + n, 2 + n % 3)}", outcome=outcome,
                      reasons="" if outcome == OutcomeCode.DISCLOSED else punctuated(shift + 3 * n),
                      referral="某市市场监督管理局，0591-87000000" if outcome == OutcomeCode.UNAVAILABLE_NOT_HELD else None)
            for n, outcome in enumerate(OutcomeCode, start=1)]


def fields_for(kind: str, shift: int) -> dict:
    """What each kind needs, with applicant- and clerk-written parts full of punctuation."""
    return {
        "acknowledgment": {"deadline_on": date(2026, 3, 23)},
        "supplement-notice": {"needed": [punctuated(shift, 3), "申请人身份证明", punctuated(shift + 7, 12)],
                              "deadline_on": date(2026, 3, 20), "reasons": punctuated(shift + 2, 5)},
        "extension-notice": {"extension_days": 15, "deadline_on": date(2026, 4, 14), "reasons": punctuated(shift)},
        "reasons-request": {"deadline_on": date(2026, 3, 26), "reasons": punctuated(shift + 8, 3)},
        "reasonable-period-notice": {"deadline_on": date(2026, 6, 30), "reasons": punctuated(shift + 9, 2)},
        "consultation-letter": {"items": items(shift)[:3], "deadline_on": date(2026, 3, 26),
                                "reasons": punctuated(shift + 1),
                                "answer_link": "https://gk.example.gov.cn/api/v1/third-party/eyJhbGciOiJIUzI1NiJ9."
                                               "eyJjaWQiOiJHSy0yMDI2LTAwMDAxMi1jMSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"},
        "agency-consultation-letter": {"items": items(shift)[:3], "reasons": punctuated(shift + 2)},
        "fee-notice": {"deadline_on": date(2026, 4, 10), "fee_amount_yuan": 300, "reasons": punctuated(shift + 3, 4),
                       "fee_payment": "到缴费窗口缴纳：市民服务中心一楼非税收入缴费窗口"},
        "override-notice": {"items": items(shift)[:4], "reasons": punctuated(shift + 5)},
        "reply": {"items": items(shift), "reasons": punctuated(shift + 11)},
        "correction-made": {"items": items(shift)[:2], "reasons": punctuated(shift + 4, 3)},
        "correction-forwarded": {"items": items(shift)[:2], "reasons": punctuated(shift + 6, 2),
                                 "referral": "某市市场监督管理局"},
        "correction-refused": {"items": items(shift)[:2], "reasons": punctuated(shift + 7, 2), "record_accurate": True},
        "objection-unreasonable-notice": {"items": items(shift)[:3], "reasons": punctuated(shift + 8, 2)},
    }[kind]


def poppler(tool: str, *args: str) -> str:
    return subprocess.run([tool, *args], check=True, capture_output=True, text=True, timeout=60).stdout


def printed_lines(pdf_path: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Per page, each printed line as (x_min, y_min, x_max, y_max, text), top to bottom.

    From poppler's word boxes (`pdftotext -bbox`), grouped by their top: compressed punctuation makes
    glyph boxes overlap, which `pdftotext -layout` mistakes for columns."""
    html = poppler("pdftotext", "-bbox", str(pdf_path), "-")
    pages = []
    for page in html.split("<page ")[1:]:
        rows: dict[float, list[tuple[float, float, float, float, str]]] = {}
        for attrs, word in re.findall(r"<word ([^>]*)>(.*?)</word>", page, flags=re.S):
            box = dict(re.findall(r'(\w+)="([\d.]+)"', attrs))
            rows.setdefault(round(float(box["yMin"]), 1), []).append(
                (float(box["xMin"]), float(box["yMin"]), float(box["xMax"]), float(box["yMax"]), unescape(word)))
        pages.append([(min(w[0] for w in words), top, max(w[2] for w in words), max(w[3] for w in words),
                       "".join(w[4] for w in sorted(words)))
                      for top, words in sorted(rows.items())])
    return pages


def screenshots(pdf: bytes, name: str, pages: int | None = None) -> list[Path]:
    """PNGs of the letter's pages (all, or the first `pages`) at 60 dpi, for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob(f"{name}-[0-9]*.png"):
        old.unlink()
    source = SCREENSHOTS / f"{name}.pdf"
    source.write_bytes(pdf)
    last = ["-l", str(pages)] if pages else []
    subprocess.run(["pdftoppm", "-png", "-r", "60", *last, str(source), str(SCREENSHOTS / name)], check=True, timeout=120)
    pngs = sorted(SCREENSHOTS.glob(f"{name}-[0-9]*.png"))
    assert pngs and all(png.stat().st_size > 2000 for png in pngs)
    return pngs


def render(kind: str, shift: int, name: str, pages: int | None = None) -> tuple[str, bytes, Path]:
    letter = compose_letter(letter_input(kind, **fields_for(kind, shift)))
    pdf = render_letter_pdf(letter.body, number=document_number("某统", kind, 2026, 12), issued_on=date(2026, 3, 5))
    screenshots(pdf, name, pages)
    return letter.body, pdf, SCREENSHOTS / f"{name}.pdf"


KINDS = list(get_args(LetterKind))


def test_every_kind_compose_makes_is_covered():
    assert set(KINDS) == {"acknowledgment", "supplement-notice", "extension-notice", "reasons-request",
                          "reasonable-period-notice", "consultation-letter",
                          "agency-consultation-letter", "fee-notice", "override-notice", "reply", "correction-made",
                          "correction-forwarded", "correction-refused", "objection-unreasonable-notice"}


@pytest.mark.parametrize("shift", [0, 1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("kind", KINDS)
def test_no_line_starts_with_closing_or_ends_with_opening_punctuation(kind, shift):
    body, pdf, path = render(kind, shift, f"{kind}-{shift}", pages=2)
    lines = [line[4] for page in printed_lines(path) for line in page]
    assert len(lines) > 10
    starts = [line for line in lines if line[0] in CLOSING]
    ends = [line for line in lines if line[-1] in OPENING]
    assert not starts, f"{kind}: lines starting with closing punctuation: {starts}"
    assert not ends, f"{kind}: lines ending with opening punctuation: {ends}"
    # 第（二）项 is read as one word: never split across lines.
    printed = "\n".join(lines)
    for unit in set(UNIT.findall(body)):
        assert printed.count(unit) == body.count(unit), (kind, unit)
    # Nothing lost: every character of the text is printed (the link may be broken anywhere).
    assert "".join(printed.split("\n")).count("。") >= body.count("。")


def test_these_texts_break_the_rules_when_wrapped_without_them():
    """The check can fail: the same texts cut every 28 characters, with no line-breaking rules (as the
    fpdf2 letters were), start lines with closing punctuation and end lines with opening punctuation."""
    starts = ends = 0
    for kind in KINDS:
        body = compose_letter(letter_input(kind, **fields_for(kind, 0))).body
        for paragraph in body.split("\n"):
            lines = [paragraph[i:i + 28] for i in range(0, len(paragraph), 28)]
            starts += sum(1 for line in lines[1:] if line[0] in CLOSING)
            ends += sum(1 for line in lines[:-1] if line[-1] in OPENING)
    assert starts > 0 and ends > 0


@pytest.mark.parametrize("kind", KINDS)
def test_layout_of_an_official_document(kind):
    """GB/T 9704-2012: the title centred in 2号, the 文号 beneath it, the addressee flush left, paragraphs two
    characters in on a grid of 22 lines of 28 characters, the agency and the date at the end with two
    empty lines above them for the seal, the date four characters from the right and the agency centred
    on it, page numbers — N — below the text; fonts embedded as subsets."""
    _, pdf, path = render(kind, 0, f"{kind}-layout")
    pages = printed_lines(path)
    first, last = pages[0], pages[-1]
    number = document_number("某统", kind, 2026, 12)

    title = first[0]
    assert abs((title[0] + title[2]) / 2 - (LEFT + RIGHT) / 2) < 1 and title[3] - title[1] == pytest.approx(22, abs=1)
    assert first[1][4] == number and abs((first[1][0] + first[1][2]) / 2 - (LEFT + RIGHT) / 2) < 1
    addressee = next(line for line in first if line[4] == "张三：")
    assert addressee[0] == pytest.approx(LEFT, abs=0.5)

    for n, page in enumerate(pages, start=1):
        footer = page[-1]
        assert footer[4] == f"—{n}—" and footer[1] > (37 + 225) * MM, footer  # below the 版心
        body = [line for line in page if LEFT - 1 < line[0] and line[1] < (37 + 225) * MM]
        if n == 1:
            body = body[body.index(addressee):]
        for x_min, y_min, x_max, _, text in body:
            # flush left or two characters in (date and agency aside); within the 156 mm line (a closing
            # mark at a line's end is set half-width, its glyph box is not)
            if text not in (AGENCY, LETTER_DATE):
                assert x_min == pytest.approx(LEFT, abs=0.5) or x_min == pytest.approx(LEFT + 2 * CHAR, abs=0.5), text
                assert x_max <= RIGHT + (CHAR / 2 if text[-1] in CLOSING else 0) + 0.5, text
        tops = [line[1] for line in body if line[4] not in (AGENCY, LETTER_DATE)]
        for a, b in zip(tops, tops[1:]):  # every line on the grid
            assert (b - a) / PITCH == pytest.approx(round((b - a) / PITCH), abs=0.02), (a, b)
        assert len(tops) <= 22

    date_line, agency_line, text_above = last[-2], last[-3], last[-4]
    assert date_line[4] == LETTER_DATE and agency_line[4] == AGENCY
    assert date_line[2] == pytest.approx(RIGHT - 4 * CHAR, abs=0.5)  # 右空四字
    assert (agency_line[0] + agency_line[2]) / 2 == pytest.approx((date_line[0] + date_line[2]) / 2, abs=0.5)
    assert agency_line[1] - text_above[1] == pytest.approx(3 * PITCH, abs=0.5)  # two empty lines for the seal
    assert date_line[1] - agency_line[1] == pytest.approx(PITCH, abs=0.5)

    fonts = poppler("pdffonts", str(path)).splitlines()[2:]
    assert fonts and all(re.match(r"[A-Z]{6}\+", row) and row.split()[-5:-3] == ["yes", "yes"] for row in fonts), fonts


def test_renders_from_several_threads_at_once_each_get_their_own_letter():
    """The worker issues letters from activity threads and the API renders drafts and envelopes: one
    Typst compiler per process is shared, and a compiler cannot run twice at once."""
    from concurrent.futures import ThreadPoolExecutor

    body = compose_letter(letter_input("acknowledgment", deadline_on=date(2026, 3, 23))).body

    def one(n: int) -> tuple[int, str]:
        pdf = render_letter_pdf(body.replace("GK-2026-000012", f"GK-2026-{n:06d}"),
                                number=document_number("某统", "acknowledgment", 2026, n), issued_on=date(2026, 3, 5))
        return n, "".join(pdf_text(pdf).split())

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(one, range(1, 25)))
    for n, text in results:
        assert f"某统依公回〔2026〕第{n}号" in text and f"GK-2026-{n:06d}" in text
