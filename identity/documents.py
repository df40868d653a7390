"""The applicant's identity document, checked, not just stored (RULES §2; 《条例》第二十九条 requires the
applicant's 身份证明; the monthly fee count of 国办函〔2020〕109号 counts by this number, so a wrong one must
not pass). Pure: no I/O. Each document by its type:

- 居民身份证 (GB 11643-1999 公民身份号码): 17 digits and a check character (ISO 7064 MOD 11-2, 0–9 or X); digits
  7–14 are the birth date, which must be a real date, not after today and not before 1900.
- 统一社会信用代码 (GB 32100-2015): 18 characters from 0–9 and the capitals without I, O, Z, S, V; the last is
  the check character (MOD 31 with the standard's weights).
- 护照: the Chinese ordinary passport (E or G and 8 digits, or E, a letter and 7 digits); a foreign passport:
  5 to 17 letters and digits with at least one digit.
- 港澳居民来往内地通行证: H (Hong Kong) or M (Macao) and 8 digits (10 on the older card).
- 台湾居民来往大陆通行证: 8 digits (10 on the older card).
- 外国人永久居留身份证: the 2017 card, 3 letters and 12 digits; the 2023 card, 18 characters beginning with 9 and
  checked like the 居民身份证 (GB 11643's check character).

Numbers compare without spaces or dashes and in capitals (db.models_fees.normalise_identity does the same).
"""

from __future__ import annotations

import re
from datetime import date

DOCUMENT_LABELS = {
    "resident-id": "居民身份证",
    "credit-code": "统一社会信用代码",
    "passport": "护照",
    "hk-macao-permit": "港澳居民来往内地通行证",
    "taiwan-permit": "台湾居民来往大陆通行证",
    "foreign-permanent-residence": "外国人永久居留身份证",
}
PERSON_DOCUMENTS = ("resident-id", "passport", "hk-macao-permit", "taiwan-permit", "foreign-permanent-residence")
ORGANISATION_DOCUMENTS = ("credit-code",)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643-1999: 2^(17-i) mod 11
_ID_CHECK = "10X98765432"
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, Z, S, V
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3^i mod 31


class IdentityError(ValueError):
    """The number cannot be a real document of that type; the message tells the applicant what to check."""


def default_document(applicant_type: str) -> str:
    """A person's document is the 居民身份证 unless they say otherwise; an organisation's, its credit code."""
    return "resident-id" if applicant_type == "natural-person" else "credit-code"


def _normalised(number: str) -> str:
    return "".join(ch for ch in number if ch.isalnum()).upper()


def id_check_character(first17: str) -> str:
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def credit_check_character(first17: str) -> str:
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


def _birth_date(yyyymmdd: str) -> date | None:
    try:
        return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None


def _resident_id(number: str, today: date) -> None:
    label = DOCUMENT_LABELS["resident-id"]
    if len(number) != 18:
        raise IdentityError(f"{label}号码应为 18 位（现为 {len(number)} 位），请核对")
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise IdentityError(f"{label}号码前 17 位只能是数字，最后一位是数字或 X，请核对")
    born = _birth_date(number[6:14])
    if born is None or born > today or born.year < 1900:
        raise IdentityError(f"{label}号码第 7 至 14 位应为出生日期，“{number[6:14]}”不是有效的日期，请核对")
    if id_check_character(number[:17]) != number[17]:
        raise IdentityError(f"{label}号码的校验位（最后一位）不符，请逐位核对号码")


def _credit_code(number: str) -> None:
    label = DOCUMENT_LABELS["credit-code"]
    if len(number) != 18:
        raise IdentityError(f"{label}应为 18 位（现为 {len(number)} 位）")
    if bad := sorted({c for c in number if c not in _CREDIT_CHARS}):
        raise IdentityError(f"{label}不含字母 I、O、Z、S、V，请核对“{'、'.join(bad)}”")
    if credit_check_character(number[:17]) != number[17]:
        raise IdentityError(f"{label}的校验码（最后一位）不符，请逐位核对")


def _permanent_residence(number: str) -> None:
    label = DOCUMENT_LABELS["foreign-permanent-residence"]
    if re.fullmatch(r"[A-Z]{3}\d{12}", number):
        return
    if re.fullmatch(r"9\d{16}[\dX]", number):
        if id_check_character(number[:17]) != number[17]:
            raise IdentityError(f"{label}号码的校验位（最后一位）不符，请逐位核对号码")
        return
    raise IdentityError(f"{label}号码应为 3 个字母加 12 位数字，或以 9 开头的 18 位号码")


_FORMATS = {
    "passport": (r"[EG]\d{8}|E[A-HJ-NP-Z]\d{7}|(?=[A-Z0-9]*\d)[A-Z0-9]{5,17}",
                 "护照号码应为 5 至 17 位字母和数字（中国护照如 E12345678）"),
    "hk-macao-permit": (r"[HM]\d{8}(\d{2})?", "港澳居民来往内地通行证号码应为 H 或 M 加 8 位数字（旧证为 10 位）"),
    "taiwan-permit": (r"\d{8}(\d{2})?", "台湾居民来往大陆通行证号码应为 8 位数字（旧证为 10 位）"),
}


def checked_identity(document: str, number: str | None, applicant_type: str, today: date) -> str:
    """The number as it is kept and counted (capitals, no spaces or dashes), or IdentityError saying what is wrong."""
    if document not in DOCUMENT_LABELS:
        raise IdentityError("请选择证件类型")
    if applicant_type == "natural-person" and document not in PERSON_DOCUMENTS:
        raise IdentityError(f"自然人请填写本人的身份证件，不是{DOCUMENT_LABELS[document]}")
    if applicant_type != "natural-person" and document not in ORGANISATION_DOCUMENTS:
        raise IdentityError("法人或者其他组织请填写统一社会信用代码")
    value = _normalised(number or "")
    if not value:
        raise IdentityError(f"请填写{DOCUMENT_LABELS[document]}号码（《政府信息公开条例》第二十九条：申请人的身份证明）")
    if document == "resident-id":
        _resident_id(value, today)
    elif document == "credit-code":
        _credit_code(value)
    elif document == "foreign-permanent-residence":
        _permanent_residence(value)
    else:
        pattern, message = _FORMATS[document]
        if not re.fullmatch(pattern, value):
            raise IdentityError(message)
    return value


def resident_id(area: str, born: date, sequence: int) -> str:
    """The 居民身份证 number of that area code (6 digits), birth date and sequence (0–999), its check character
    computed (GB 11643): for demo data and tests."""
    first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
    return first17 + id_check_character(first17)


def credit_code(first17: str) -> str:
    """The 统一社会信用代码 of those 17 characters, its check character computed (GB 32100): demo data and tests."""
    return first17 + credit_check_character(first17)
