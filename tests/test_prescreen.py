from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from contracts.models import PrescreenText
from screening.prescreen import prescreen_texts

TODAY = date(2026, 3, 5)
VALID_ID = "11010519491231002X"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def with_check_char(first17: str) -> str:
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def scan(text: str, item_no: int | None = None) -> list:
    return prescreen_texts([PrescreenText(item_no=item_no, label="申请内容", text=text)], today=TODAY)


def kinds(text: str) -> list[str]:
    return [finding.kind for finding in scan(text)]


def test_valid_id_number_is_flagged_and_masked() -> None:
    [finding] = scan(f"申请人王五，公民身份号码：{VALID_ID}，住址略。", item_no=2)
    assert (finding.kind, finding.item_no, finding.label) == ("id-card", 2, "申请内容")
    assert VALID_ID not in finding.excerpt
    assert "【110*************2X】" in finding.excerpt
    assert "申请人王五" in finding.excerpt or "公民身份号码" in finding.excerpt


def test_lowercase_x_and_full_width_digits_are_found() -> None:
    assert kinds(f"身份证号{VALID_ID.lower()}。") == ["id-card"]
    full_width = VALID_ID.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    [finding] = scan(f"身份证号：{full_width}。")
    assert finding.kind == "id-card"
    assert full_width not in finding.excerpt and VALID_ID not in finding.excerpt


def test_wrong_check_character_is_not_an_id_number() -> None:
    assert kinds("编号110105194912310021。") == []
    assert kinds("编号110105194912310029。") == []


def test_valid_checksum_with_impossible_birth_date_is_not_flagged() -> None:
    month_13 = with_check_char("11010519491331002")
    february_30 = with_check_char("11010520010230002")
    born_tomorrow = with_check_char("11010520260306002")
    born_1899 = with_check_char("11010518991231002")
    for number in (month_13, february_30, born_tomorrow, born_1899):
        assert kinds(f"号码{number}") == [], number
    assert kinds(f"号码{with_check_char('11010520260305002')}") == ["id-card"]


def test_id_inside_a_longer_run_of_digits_is_not_flagged() -> None:
    assert kinds(f"流水号9{VALID_ID[:-1]}7") == []
    assert kinds(f"订单{VALID_ID}5") == []


def test_legacy_fifteen_digit_numbers_need_a_valid_date() -> None:
    assert kinds("旧身份证110105491231002，") == ["id-card"]
    assert kinds("旧身份证110105491331002，") == []


def test_mobile_numbers() -> None:
    for text in (
        "联系电话：13812345678。",
        "联系电话：138-1234-5678。",
        "联系电话：138 1234 5678。",
        "电话+86 19912345678",
        "手机：１３８１２３４５６７８，",
    ):
        [finding] = scan(text)
        assert finding.kind == "phone", text
        assert "【" in finding.excerpt and "******" in finding.excerpt
        assert "13812345678" not in finding.excerpt and "1234" not in finding.excerpt


def test_not_mobile_numbers() -> None:
    for text in ("编号12812345678", "编号138123456789", "金额213812345678元", "统计数据：1381234567"):
        assert kinds(text) == [], text


def test_landlines_with_area_code() -> None:
    for text in ("办公电话0591-87654321。", "电话：010-12345678", "（0591）87654321", "电话0591－87654321"):
        [finding] = scan(text)
        assert finding.kind == "phone", text
        assert "87654321" not in finding.excerpt and "12345678" not in finding.excerpt


def test_dates_and_document_numbers_are_not_landlines() -> None:
    for text in ("2026-03-05", "闽统〔2026〕12号", "共计010-1234件"):
        assert kinds(text) == [], text


def test_classification_markings() -> None:
    assert kinds("机密★1年") == ["secret-marking"]
    assert kinds("绝密★长期\n关于……的通知") == ["secret-marking"]
    assert kinds("秘密☆6个月") == ["secret-marking"]
    assert kinds("密级：秘密") == ["secret-marking"]
    assert kinds("密级:机密 份号：003") == ["secret-marking"]
    assert kinds("【绝密】") == ["secret-marking"]
    assert kinds("机密\n\n某某文件") == ["secret-marking"]
    [finding] = scan("文件右上角标注“机密★1年”。")
    assert finding.detail == "密级标志：机密★1年"
    assert "【机密★1年】" in finding.excerpt


def test_words_that_are_not_markings() -> None:
    for text in (
        "涉及商业秘密、个人隐私的信息不予公开。",
        "属于国家秘密的，依法不予公开。",
        "本机关依照保密审查制度进行审查。",
        "请做好工作秘密和技术秘密的保护。",
        "数据的机密性与完整性。",
        "该企业的经营秘密。",
        "他秘密地离开了。",
    ):
        assert kinds(text) == [], text


def test_findings_are_ordered_and_neighbours_are_masked_too() -> None:
    text = f"机密★1年。身份证{VALID_ID}电话13812345678"
    findings = scan(text)
    assert [f.kind for f in findings] == ["secret-marking", "id-card", "phone"]
    for finding in findings:
        assert VALID_ID not in finding.excerpt and "13812345678" not in finding.excerpt


def test_several_texts_keep_their_labels() -> None:
    texts = [
        PrescreenText(item_no=1, label="第1项", text="无敏感内容。"),
        PrescreenText(item_no=2, label="第2项", text="联系人13912345678"),
        PrescreenText(label="附件", text="0591-87654321"),
    ]
    findings = prescreen_texts(texts, today=TODAY)
    assert [(f.item_no, f.label) for f in findings] == [(2, "第2项"), (None, "附件")]


birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)


@given(area=st.integers(110000, 659999), born=birth_dates, sequence=st.integers(0, 999))
def test_every_valid_id_number_is_found_and_never_shown(area: int, born: date, sequence: int) -> None:
    number = with_check_char(f"{area}{born:%Y%m%d}{sequence:03d}")
    findings = scan(f"申请人（身份证号：{number}）请求公开。")
    assert [f.kind for f in findings] == ["id-card"]
    assert number not in findings[0].excerpt


@given(digits=st.text(alphabet="0123456789", min_size=18, max_size=18))
def test_random_eighteen_digit_runs_are_flagged_only_when_valid(digits: str) -> None:
    valid_checksum = with_check_char(digits[:17]) == digits
    try:
        born = date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
        plausible = date(1900, 1, 1) <= born <= TODAY
    except ValueError:
        plausible = False
    id_findings = [f for f in scan(f"编号{digits}。") if f.kind == "id-card"]
    assert bool(id_findings) == (valid_checksum and plausible)
