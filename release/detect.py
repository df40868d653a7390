"""The file pre-screen: what a reviewer must look at in a file before it leaves (RULES §14).

Reuses screening/prescreen.py's detectors (resident ID numbers with check digit and birth date,
phone numbers, 密级 markings) and adds, for the files themselves:
- bank card numbers: 16 to 19 digits passing the Luhn check (ISO/IEC 7812-1 annex B);
- 统一社会信用代码: 18 characters of GB 32100-2015's alphabet with its check character (GB 32100-2015 §4.4);
- addresses: a road/street with a house number, or a village/community with a group or number;
- 密级 markings with ★ (保密法 art. 17 and GB/T 9704-2012 §7.2.3: 绝密/机密/秘密★期限);
- unit-level statistical tables: a table with a column that identifies each respondent (企业名称,
  单位名称, 统一社会信用代码, 身份证号, ...) beside values (统计法 2009 art. 25: 能够识别或者推断单个统计
  调查对象身份的资料 must not be provided; art. 9 duty of confidentiality).
Each finding names its file, page (and sheet/cell), and its place on the page. It only points.
"""

import re
from dataclasses import dataclass
from datetime import date

from release.pages import Box, PageText, Table
from screening.prescreen import HALF_WIDTH, _mask, _Match, find_matches

EXCERPT_CONTEXT_CHARS = 12

BANK_CARD = re.compile(r"(?<![\dA-Za-z])(?:\d{4}[ -]?){3}\d{4}(?:\d{1,3})?(?![\dA-Za-z])|(?<![\dA-Za-z])\d{16,19}(?![\dA-Za-z])")
# GB 32100-2015: 18 characters of 0-9 and the capitals without I, O, S, V, Z; characters 3-8 the
# administrative division code (digits).
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
CREDIT_CODE = re.compile(r"(?<![0-9A-Za-z])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Za-z])")
_HAN = "\u4e00-\u9fff"
ADDRESS = re.compile(
    rf"(?:[{_HAN}]{{2,8}}(?:省|自治区|市|区|县|镇|乡|街道))*"
    rf"[{_HAN}0-9]{{1,12}}(?:路|街|大道|大街|巷|弄|胡同|道)\s*\d+(?:-\d+)?\s*号"
    rf"(?:\s*[{_HAN}]{{0,8}}?\d+(?:-\d+)?\s*(?:号楼|栋|幢|单元|室|层|楼))*"
    rf"|[{_HAN}]{{2,8}}(?:村|社区|小区)\s*\d+\s*(?:组|号|栋|幢)(?:\s*\d+\s*(?:号|单元|室))*"
)
# Column headings that identify a single respondent (统计法 art. 25).
IDENTIFYING_HEADINGS = (
    "企业名称",
    "单位名称",
    "单位详细名称",
    "法人单位名称",
    "统一社会信用代码",
    "组织机构代码",
    "身份证号",
    "身份证号码",
    "公民身份号码",
    "姓名",
    "户主姓名",
    "法定代表人",
    "单位负责人",
    "联系电话",
    "详细地址",
    "单位地址",
    "住址",
)


@dataclass(frozen=True)
class FileFinding:
    page: int
    kind: str  # id-card, phone, bank-card, credit-code, address, secret-marking, unit-level-table
    detail: str
    excerpt: str  # the match masked in its context
    place: Box | None  # on the page, fractions, origin top-left
    ref: str | None  # sheet!cell for spreadsheets, table cell for DOCX
    start: int  # character span in the page's text (for redaction by finding)
    end: int
    value_hash: str  # sha256 of the matched text: the same value on several pages is one decision


def screen_pages(pages: list[PageText], *, today: date) -> list[FileFinding]:
    findings: list[FileFinding] = []
    for page in pages:
        findings.extend(screen_page(page, today=today))
    return findings


def screen_page(page: PageText, *, today: date) -> list[FileFinding]:
    import hashlib

    text = page.text
    normalised = text.translate(HALF_WIDTH)
    matches = [m for m in find_matches(text, today)]
    matches += _credit_codes(normalised, matches)
    matches += _bank_cards(normalised, matches)
    matches += _addresses(normalised)
    matches.sort(key=lambda m: m.start)
    masked = _mask(text, [m for m in matches if m.masked])
    findings = [
        FileFinding(
            page=page.page,
            kind=m.kind,
            detail=m.detail,
            excerpt=_excerpt(masked, m),
            place=page.box_of(m.start, m.end),
            ref=page.ref_of(m.start, m.end),
            start=m.start,
            end=m.end,
            value_hash=hashlib.sha256(text[m.start : m.end].encode()).hexdigest(),
        )
        for m in matches
    ]
    for table in page.tables:
        findings.extend(_unit_level_table(page, table))
    if not page.tables:
        findings.extend(_unit_level_text(page, findings))
    return findings


def valid_credit_code(code: str) -> bool:
    """GB 32100-2015 §4.4: check = 31 - (Σ value(i)·3^(i-1) mod 31) mod 31, as a character of the alphabet."""
    if len(code) != 18 or any(c not in _USCC_ALPHABET for c in code):
        return False
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(code[:17], _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31] == code[17]


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def _overlaps(start: int, end: int, others: list[_Match]) -> bool:
    return any(start < o.end and o.start < end for o in others)


def _credit_codes(text: str, earlier: list[_Match]) -> list[_Match]:
    return [
        _Match(m.start(), m.end(), "credit-code", "统一社会信用代码（校验码有效）", False)
        for m in CREDIT_CODE.finditer(text)
        if valid_credit_code(m.group()) and not _overlaps(m.start(), m.end(), earlier)
    ]


def _bank_cards(text: str, earlier: list[_Match]) -> list[_Match]:
    found = []
    for m in BANK_CARD.finditer(text):
        digits = re.sub(r"[ -]", "", m.group())
        if 16 <= len(digits) <= 19 and luhn_valid(digits) and not _overlaps(m.start(), m.end(), earlier):
            found.append(_Match(m.start(), m.end(), "bank-card", f"{len(digits)}位银行卡号（Luhn 校验有效）", True))
    return found


def _addresses(text: str) -> list[_Match]:
    return [
        _Match(m.start(), m.end(), "address", "详细地址（门牌号）", False)
        for m in ADDRESS.finditer(text)
        if m.group().strip()
    ]


def _heading(text: str) -> str | None:
    cleaned = re.sub(r"\s+", "", text)
    return next((h for h in IDENTIFYING_HEADINGS if h in cleaned and len(cleaned) <= len(h) + 6), None)


def _unit_level_table(page: PageText, table: Table) -> list[FileFinding]:
    """A heading row with an identifying column and at least one row with a value under it and beside it."""
    import hashlib

    for r, row in enumerate(table.rows[:10]):
        identifying = [(c, _heading(cell.text)) for c, cell in enumerate(row) if _heading(cell.text)]
        if not identifying:
            continue
        c, heading = identifying[0]
        below = [
            other
            for other in table.rows[r + 1 :]
            if c < len(other) and other[c].text.strip() and sum(1 for cell in other if cell.text.strip()) >= 2
        ]
        if not below:
            continue
        head_cell = row[c]
        # the place: the identifying column on the heading's page (choosing the finding removes the column)
        column = [head_cell.box] + [o[c].box for o in below if o[c].page == head_cell.page and o[c].box]
        place = (
            (min(b[0] for b in column), min(b[1] for b in column), max(b[2] for b in column), max(b[3] for b in column))
            if head_cell.box
            else None
        )
        names = "、".join(h for _, h in identifying)
        return [
            FileFinding(
                page=head_cell.page or page.page,
                kind="unit-level-table",
                detail=f"单位级统计表：“{table.name}”有可识别单个调查对象的列（{names}），共 {len(below)} 行数据（统计法第二十五条）",
                excerpt=f"【{heading}】列下：{below[0][c].text[:3]}…",
                place=place,
                ref=head_cell.ref,
                start=0,
                end=0,
                value_hash=hashlib.sha256(f"table:{table.name}:{names}".encode()).hexdigest(),
            )
        ]
    return []


def _unit_level_text(page: PageText, findings: list[FileFinding]) -> list[FileFinding]:
    """A page without table structure (PDF, scan): an identifying heading and rows of identifying values
    (three or more of one kind: one person's ID and phone in a decision letter are not a table)."""
    import hashlib

    text = re.sub(r"[ \t]+", "", page.text)
    headings = [h for h in IDENTIFYING_HEADINGS if h in text]
    values = [f for f in findings if f.kind in ("credit-code", "id-card", "phone", "address")]
    most_of_one_kind = max((sum(1 for f in values if f.kind == kind) for kind in {f.kind for f in values}), default=0)
    if not headings or most_of_one_kind < 3:
        return []
    heading = headings[0]
    start = page.text.find(heading)
    return [
        FileFinding(
            page=page.page,
            kind="unit-level-table",
            detail=f"疑似单位级统计表：本页有“{'、'.join(headings[:4])}”等列名及 {len(values)} 个可识别身份的值（统计法第二十五条）",
            excerpt=f"【{heading}】",
            place=page.box_of(start, start + len(heading)) if start >= 0 else None,
            ref=None,
            start=max(start, 0),
            end=max(start, 0) + len(heading) if start >= 0 else 0,
            value_hash=hashlib.sha256(f"table-page:{page.page}:{heading}".encode()).hexdigest(),
        )
    ]


def _excerpt(masked_text: str, match: _Match) -> str:
    before = masked_text[max(0, match.start - EXCERPT_CONTEXT_CHARS) : match.start]
    after = masked_text[match.end : match.end + EXCERPT_CONTEXT_CHARS]
    return f"{before}【{masked_text[match.start:match.end]}】{after}".replace("\n", " ").replace("\t", " ")
