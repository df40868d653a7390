"""Issue 23 point 5, RULES §2: identity documents are checked by their type (identity.documents), so that "12345X"
or a number with a wrong check character never reaches the fee count."""

from datetime import date

import pytest

from identity import IdentityError, checked_identity, credit_code, resident_id

TODAY = date(2026, 12, 7)


@pytest.mark.parametrize(("document", "number", "applicant_type", "kept"), [
    ("resident-id", "11010519491231002X", "natural-person", "11010519491231002X"),  # GB 11643's own example
    ("resident-id", "110105 19491231 002x", "natural-person", "11010519491231002X"),
    ("credit-code", "91110000600037341L", "enterprise", "91110000600037341L"),
    ("credit-code", "9111-0000-6000-3734-1l", "enterprise", "91110000600037341L"),
    ("passport", "E12345678", "natural-person", "E12345678"),
    ("passport", "EA1234567", "natural-person", "EA1234567"),
    ("hk-macao-permit", "M12345678", "natural-person", "M12345678"),
    ("taiwan-permit", "12345678", "natural-person", "12345678"),
    ("foreign-permanent-residence", "USA123456789012", "natural-person", "USA123456789012"),
    ("foreign-permanent-residence", resident_id("911000", date(1980, 1, 1), 5), "natural-person",
     resident_id("911000", date(1980, 1, 1), 5)),
])
def test_a_real_number_of_each_document_is_kept_as_counted(document, number, applicant_type, kept):
    assert checked_identity(document, number, applicant_type, TODAY) == kept


@pytest.mark.parametrize(("document", "number", "applicant_type", "says"), [
    ("resident-id", "", "natural-person", "请填写居民身份证号码"),
    ("resident-id", "12345X", "natural-person", "应为 18 位（现为 6 位）"),
    ("resident-id", "11010519491231002A", "natural-person", "只能是数字"),
    ("resident-id", "110105194912310021", "natural-person", "校验位"),
    ("resident-id", resident_id("110105", date(1949, 12, 31), 2)[:6] + "19490230" + "0021", "natural-person", "不是有效的日期"),
    ("resident-id", resident_id("110105", date(2027, 1, 1), 2), "natural-person", "不是有效的日期"),  # born tomorrow
    ("credit-code", "91110000600037341A", "enterprise", "校验码"),
    ("credit-code", "9111000060003734IL", "enterprise", "不含字母 I、O、Z、S、V"),
    ("credit-code", "9111000060003734", "enterprise", "应为 18 位"),
    ("resident-id", "11010519491231002X", "enterprise", "统一社会信用代码"),  # an organisation's document
    ("credit-code", "91110000600037341L", "natural-person", "本人的身份证件"),
    ("passport", "ABCDEFG", "natural-person", "护照号码"),
    ("hk-macao-permit", "H1234567", "natural-person", "H 或 M 加 8 位数字"),
    ("taiwan-permit", "1234567", "natural-person", "8 位数字"),
    ("foreign-permanent-residence", "US1234567890123", "natural-person", "3 个字母加 12 位数字"),
])
def test_a_wrong_number_is_refused_with_what_to_check(document, number, applicant_type, says):
    with pytest.raises(IdentityError) as refused:
        checked_identity(document, number, applicant_type, TODAY)
    assert says in str(refused.value)


def test_the_generators_make_numbers_the_checks_accept():
    for n in range(200):
        assert checked_identity("resident-id", resident_id("350102", date(1950 + n % 50, 1 + n % 12, 1 + n % 28), n),
                                "natural-person", TODAY)
        assert checked_identity("credit-code", credit_code(f"91350100MA{n:07d}"), "enterprise", TODAY)
