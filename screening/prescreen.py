"""Automatic confidentiality pre-screen: flags what a reviewer must look at before release.

Finds PRC resident ID numbers (checksum and birth date validated), mainland mobile and landline
numbers, and classification markings (绝密 / 机密 / 秘密). It only points; the confidentiality
reviewer decides. Excerpts never contain a full ID or phone number.
"""

import re
from dataclasses import dataclass
from datetime import date

from contracts.models import PrescreenFinding, PrescreenText

EXCERPT_CONTEXT_CHARS = 12

# Full-width digits, X and dashes are common in Chinese documents; mapped one-to-one so that
# positions in the normalised text are positions in the original.
HALF_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ－—", "0123456789Xx--")

ID_18 = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
ID_15 = re.compile(r"(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![\d+-])(?:(?:\+|00)86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?![\d-])")
LANDLINE = re.compile(r"(?<![\d-])(?:0\d{2,3}[- ]|[(（]0\d{2,3}[)）])[1-9]\d{6,7}(?![\d-])")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"

_SECRET_LEVEL = re.compile(r"绝密|机密|秘密")
_MARKING_STAR = re.compile(r"\s*[★☆]\s*(?:\d+\s*(?:年|个月|月)|长期)?")
_MARKING_LABEL = re.compile(r"密级\s*[:：]?\s*$")
# Phrases that name secrets without being a document's classification marking.
_NOT_A_MARKING_PREFIXES = ("商业", "国家", "工作", "个人", "技术", "经营")


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    kind: str
    detail: str
    masked: bool


def prescreen_texts(texts: list[PrescreenText], *, today: date) -> list[PrescreenFinding]:
    """All findings, text by text, in order of appearance. `today` bounds plausible birth dates
    (the caller's clock: this package is pure)."""
    latest_birth = today
    findings: list[PrescreenFinding] = []
    for text in texts:
        matches = find_matches(text.text, latest_birth)
        masked_text = _mask(text.text, [m for m in matches if m.masked])
        findings.extend(
            PrescreenFinding(
                item_no=text.item_no,
                label=text.label,
                kind=match.kind,
                excerpt=_excerpt(masked_text, match),
                detail=match.detail,
            )
            for match in matches
        )
    return findings


def find_matches(text: str, latest_birth: date) -> list[_Match]:
    normalised = text.translate(HALF_WIDTH)
    matches = [*_id_numbers(normalised, latest_birth), *_phone_numbers(normalised), *_secret_markings(normalised)]
    return sorted(matches, key=lambda m: m.start)


def _id_numbers(text: str, latest_birth: date) -> list[_Match]:
    found = [
        _Match(m.start(), m.end(), "id-card", "18位居民身份证号码（校验码与出生日期有效）", True)
        for m in ID_18.finditer(text)
        if _valid_id_18(m.group().upper(), latest_birth)
    ]
    found += [
        _Match(m.start(), m.end(), "id-card", "15位旧版居民身份证号码（出生日期有效）", True)
        for m in ID_15.finditer(text)
        if _plausible_birth_date("19" + m.group()[6:12], latest_birth)
    ]
    return found


def _valid_id_18(number: str, latest_birth: date) -> bool:
    checksum = sum(int(digit) * weight for digit, weight in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[checksum % 11] == number[17] and _plausible_birth_date(number[6:14], latest_birth)


def _plausible_birth_date(yyyymmdd: str, latest_birth: date) -> bool:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= latest_birth


def _phone_numbers(text: str) -> list[_Match]:
    mobiles = [_Match(m.start(), m.end(), "phone", "手机号码", True) for m in MOBILE.finditer(text)]
    landlines = [_Match(m.start(), m.end(), "phone", "带区号的固定电话号码", True) for m in LANDLINE.finditer(text)]
    return mobiles + landlines


def _secret_markings(text: str) -> list[_Match]:
    found = []
    for level in _SECRET_LEVEL.finditer(text):
        start, end = level.span()
        if text[max(0, start - 2) : start] in _NOT_A_MARKING_PREFIXES:
            continue
        star = _MARKING_STAR.match(text, end)
        if star and star.group().strip():
            end = star.end()
        elif not (_MARKING_LABEL.search(text, 0, start) or _stands_alone(text, start, end)):
            continue
        found.append(_Match(start, end, "secret-marking", f"密级标志：{text[start:end].strip()}", False))
    return found


def _stands_alone(text: str, start: int, end: int) -> bool:
    """True when no Chinese character touches the word: a marking, not part of a phrase."""
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    return not (_is_han(before) or _is_han(after))


def _is_han(char: str) -> bool:
    return bool(char) and "\u4e00" <= char <= "\u9fff"


def _mask(text: str, sensitive: list[_Match]) -> str:
    """Hide all but the first 3 and last 2 characters of every sensitive match (length preserved)."""
    chars = list(text)
    for match in sensitive:
        for position in range(match.start + 3, match.end - 2):
            chars[position] = "*"
    return "".join(chars)


def _excerpt(masked_text: str, match: _Match) -> str:
    before = masked_text[max(0, match.start - EXCERPT_CONTEXT_CHARS) : match.start]
    after = masked_text[match.end : match.end + EXCERPT_CONTEXT_CHARS]
    return f"{before}【{masked_text[match.start:match.end]}】{after}".replace("\n", " ")
