from datetime import date

import pytest

from contracts.models import ComposeLetterInput, ReplyItem
from letters.compose import LetterInputError, chinese_date, compose_letter
from outcomes import OutcomeCode, label_of
from outcomes.legal import LEGAL_BASIS, legal_basis_for, legal_basis_of

APPLICATION_ID = "GK-2026-000007"


def letter_input(kind: str, **fields) -> ComposeLetterInput:
    return ComposeLetterInput(
        application_id=APPLICATION_ID,
        kind=kind,
        agency_name="某市统计局",
        recipient_name="张三",
        letter_date=date(2026, 3, 5),
        received_on=date(2026, 3, 2),
        **fields,
    )


def assert_letterhead(body: str) -> None:
    assert APPLICATION_ID in body
    assert "张三：" in body
    assert body.endswith("某市统计局\n2026年3月5日")


def test_chinese_dates_have_no_leading_zeros() -> None:
    assert chinese_date(date(2026, 3, 5)) == "2026年3月5日"
    assert chinese_date(date(2026, 12, 31)) == "2026年12月31日"


def test_acknowledgment() -> None:
    letter = compose_letter(letter_input("acknowledgment", deadline_on=date(2026, 3, 23)))
    assert letter.kind == "acknowledgment"
    assert letter.subject == f"政府信息公开申请登记回执（{APPLICATION_ID}）"
    assert "2026年3月2日收到" in letter.body
    assert "2026年3月23日（含当日）前作出答复" in letter.body
    assert_letterhead(letter.body)


def test_supplement_notice_lists_everything_once() -> None:
    needed = ["所需信息的名称或者文号", "信息的形成时间", "申请人身份证明"]
    letter = compose_letter(
        letter_input("supplement-notice", needed=needed, deadline_on=date(2026, 3, 20), reasons="所需信息的描述不明确")
    )
    body = letter.body
    assert letter.subject.startswith("补正申请告知书")
    assert "1. 所需信息的名称或者文号\n2. 信息的形成时间\n3. 申请人身份证明" in body
    assert "一次性告知" in body and "第三十条" in body
    assert "2026年3月20日（含当日）前" in body
    assert "收到补正后的申请之日起重新计算" in body
    assert "无正当理由逾期不补正的，视为放弃申请" in body
    assert "所需信息的描述不明确" in body
    assert_letterhead(body)


def test_extension_notice() -> None:
    letter = compose_letter(
        letter_input("extension-notice", extension_days=15, deadline_on=date(2026, 4, 14), reasons="所需信息需跨年度检索")
    )
    body = letter.body
    assert letter.subject.startswith("延期答复告知书")
    assert "延长15个工作日" in body and "2026年4月14日（含当日）前作出答复" in body
    assert "所需信息需跨年度检索" in body and "第三十三条第二款" in body
    assert_letterhead(body)


def test_consultation_letter() -> None:
    items = [ReplyItem(item_no=1, description="某公司2025年统计报表", outcome=OutcomeCode.WITHHELD_THIRD_PARTY)]
    letter = compose_letter(letter_input("consultation-letter", items=items, deadline_on=date(2026, 3, 26)))
    body = letter.body
    assert letter.subject.startswith("第三方意见征询函")
    assert "1. 某公司2025年统计报表" in body
    assert "15个工作日" in body and "2026年3月26日（含当日）前" in body
    assert "逾期未提出意见的，由本机关" in body and "决定是否公开" in body
    assert "第三十二条" in body


def test_override_notice_says_what_and_why() -> None:
    items = [ReplyItem(item_no=1, description="某企业排污统计数据", outcome=OutcomeCode.DISCLOSED)]
    letter = compose_letter(letter_input("override-notice", items=items, reasons="涉及公众健康，不公开将对公共利益造成重大影响"))
    body = letter.body
    assert letter.subject.startswith("政府信息公开决定告知书")
    assert "1. 某企业排污统计数据" in body
    assert "公共利益造成重大影响" in body and "第三十二条" in body
    assert "理由：涉及公众健康" in body
    assert "60日" in body and "6个月" in body


def test_reply_answers_every_item_with_label_basis_and_remedies() -> None:
    items = [
        ReplyItem(item_no=2, description="统计执法案卷", outcome=OutcomeCode.WITHHELD_ENFORCEMENT_FILE, reasons="属于行政执法案卷信息"),
        ReplyItem(item_no=1, description="2025年统计公报", outcome=OutcomeCode.DISCLOSED),
        ReplyItem(
            item_no=3,
            description="企业登记档案",
            outcome=OutcomeCode.UNAVAILABLE_NOT_HELD,
            reasons="该信息不属于本机关负责公开",
            referral="某市市场监督管理局，0591-87000000",
        ),
    ]
    letter = compose_letter(letter_input("reply", items=items))
    body = letter.body
    assert letter.subject == f"政府信息公开申请答复告知书（{APPLICATION_ID}）"
    assert "共3项" in body and "一并答复" in body
    assert body.index("第1项") < body.index("第2项") < body.index("第3项")
    for item in items:
        assert item.description in body
        assert f"处理结果：{label_of(item.outcome)}" in body
        assert legal_basis_for(item.outcome, referral=item.referral).citation() in body
    assert "第十六条第二款" in body and "第三十六条第（三）项" in body
    assert "负责公开该政府信息的机关及联系方式：某市市场监督管理局，0591-87000000" in body
    assert "行政复议" in body and "60日" in body
    assert "行政诉讼" in body and "6个月" in body
    assert_letterhead(body)


def test_referral_only_shown_for_not_held() -> None:
    item = ReplyItem(item_no=1, description="x", outcome=OutcomeCode.DISCLOSED, referral="某机关")
    assert "联系方式" not in compose_letter(letter_input("reply", items=[item])).body


@pytest.mark.parametrize("code", list(OutcomeCode))
def test_every_outcome_has_a_legal_basis_in_the_reply(code: OutcomeCode) -> None:
    item = ReplyItem(item_no=1, description="某信息", outcome=code, reasons="具体理由")
    body = compose_letter(letter_input("reply", items=[item])).body
    assert label_of(code) in body
    assert f"依据：{legal_basis_of(code).citation()}" in body
    assert "《中华人民共和国政府信息公开条例》" in body


def test_legal_basis_table_is_complete() -> None:
    assert set(LEGAL_BASIS) == set(OutcomeCode)
    assert legal_basis_of(OutcomeCode.WITHHELD_STATE_SECRET).provisions[0] == "第十四条"
    assert "第十五条" in legal_basis_of(OutcomeCode.WITHHELD_THIRD_PARTY).provisions
    assert legal_basis_of(OutcomeCode.OTHER_FEE_UNPAID).citation().endswith("（国办函〔2020〕109号）")


@pytest.mark.parametrize(
    "kind, fields",
    [
        ("acknowledgment", {}),
        ("supplement-notice", {"deadline_on": date(2026, 3, 20)}),
        ("supplement-notice", {"needed": ["文号"]}),
        ("extension-notice", {"deadline_on": date(2026, 4, 14), "reasons": "检索量大"}),
        ("extension-notice", {"deadline_on": date(2026, 4, 14), "extension_days": 15}),
        ("consultation-letter", {"deadline_on": date(2026, 3, 26)}),
        ("override-notice", {"reasons": "公共利益"}),
        ("reply", {}),
        ("reply", {"items": [ReplyItem(item_no=1, description="x", outcome=OutcomeCode.WITHHELD_PROCESS_INFO)]}),
    ],
)
def test_letters_refuse_to_omit_what_the_law_requires(kind: str, fields: dict) -> None:
    with pytest.raises(LetterInputError):
        compose_letter(letter_input(kind, **fields))
