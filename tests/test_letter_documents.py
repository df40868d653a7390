"""Every document kind as a PDF with correct Chinese text, its 文号, and a PNG of page 1 for a person."""

from datetime import date

import pytest

from contracts.models import ComposeLetterInput, ReplyItem
from letters.compose import compose_letter
from letters.documents import SERIES, document_number, pdf_text, render_envelope_pdf, render_letter_pdf
from outcomes import OutcomeCode, label_of
from outcomes.legal import legal_basis_for
from tests.letters_support import preview_png, require_pdf_tools

APPLICATION_ID = "GK-2026-000012"


@pytest.fixture(autouse=True)
def _tools():
    require_pdf_tools()


def letter_input(kind: str, **fields) -> ComposeLetterInput:
    return ComposeLetterInput(application_id=APPLICATION_ID, kind=kind, agency_name="某市统计局", recipient_name="张三",
                              letter_date=date(2026, 3, 5), received_on=date(2026, 3, 2), **fields)


ITEM = ReplyItem(item_no=1, description="某企业2025年排污统计数据", outcome=OutcomeCode.DISCLOSED)
KINDS = {
    "acknowledgment": ({"deadline_on": date(2026, 3, 23)}, ["政府信息公开申请登记回执", "2026年3月23日（含当日）前"]),
    "supplement-notice": ({"needed": ["所需信息的文号", "申请人身份证明"], "deadline_on": date(2026, 3, 20)},
                          ["补正申请告知书", "1. 所需信息的文号", "2. 申请人身份证明", "2026年3月20日", "视为放弃申请"]),
    "extension-notice": ({"extension_days": 15, "deadline_on": date(2026, 4, 14), "reasons": "需跨年度检索"},
                         ["延期答复告知书", "延长15个工作日", "2026年4月14日", "第三十三条第二款"]),
    "reasons-request": ({"deadline_on": date(2026, 3, 26), "reasons": "本月已提出申请42件"},
                        ["说明申请理由告知书", "第三十五条", "2026年3月26日（含当日）前", "本月已提出申请42件", "答复期限继续计算"]),
    "reasonable-period-notice": ({"deadline_on": date(2026, 6, 30), "reasons": "需从历年档案中逐项检索"},
                                 ["延迟答复告知书", "第三十五条", "2026年6月30日（含当日）前", "理由合理"]),
    "consultation-letter": ({"items": [ITEM], "deadline_on": date(2026, 3, 26)},
                            ["第三方意见征询函", "某企业2025年排污统计数据", "15个工作日", "第三十二条"]),
    "override-notice": ({"items": [ITEM], "reasons": "涉及公众健康，不公开将对公共利益造成重大影响"},
                        ["政府信息公开决定告知书", "公共利益造成重大影响", "60日", "6个月"]),
    "reply": ({"items": [ITEM]}, ["政府信息公开申请答复告知书", "处理结果：予以公开", "行政复议", "行政诉讼"]),
}


def squash(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_renders_with_its_number_date_and_required_parts(kind, tmp_path):
    fields, required = KINDS[kind]
    letter = compose_letter(letter_input(kind, **fields))
    number = document_number("某统", kind, 2026, 12)
    pdf = render_letter_pdf(letter.body, number=number, issued_on=date(2026, 3, 5))
    text = squash(pdf_text(pdf))
    assert pdf.startswith(b"%PDF")
    for part in [number, "某市统计局", "2026年3月5日", APPLICATION_ID, "张三：", *required]:
        assert squash(part) in text, (kind, part)
    preview_png(pdf, f"{kind}", tmp_path / "letters-preview")


def test_document_numbers_per_kind_and_year():
    assert document_number("某统", "reply", 2026, 12) == "某统依公〔2026〕第12号"
    assert len({document_number("某统", k, 2026, 1) for k in SERIES}) == len(SERIES)


@pytest.mark.parametrize("outcome", list(OutcomeCode), ids=[o.value for o in OutcomeCode])
def test_reply_for_every_outcome_states_result_reasons_basis_and_remedies(outcome):
    item = ReplyItem(item_no=1, description="2025年统计执法检查记录", outcome=outcome,
                     reasons="" if outcome == OutcomeCode.DISCLOSED else "依法说明的理由",
                     referral="某市市场监督管理局，0591-87000000" if outcome == OutcomeCode.UNAVAILABLE_NOT_HELD else None)
    letter = compose_letter(letter_input("reply", items=[item]))
    text = squash(pdf_text(render_letter_pdf(letter.body, number="某统依公〔2026〕第1号", issued_on=date(2026, 3, 5))))
    assert squash(f"处理结果：{label_of(outcome)}") in text
    assert squash(legal_basis_for(outcome, referral=item.referral).citation()) in text
    assert "60日内依法申请行政复议" in text and "6个月内依法向人民法院提起行政诉讼" in text
    if outcome != OutcomeCode.DISCLOSED:
        assert "理由：依法说明的理由" in text


def test_envelope_and_draft_preview(tmp_path):
    envelope = render_envelope_pdf(recipient_name="张三", address="福州市鼓楼区某路1号", sender="某市统计局",
                                   number="某统依公〔2026〕第3号", issued_on=date(2026, 3, 5))
    text = squash(pdf_text(envelope))
    assert "张三" in text and "福州市鼓楼区某路1号" in text and "某统依公〔2026〕第3号" in text
    preview_png(envelope, "envelope", tmp_path / "letters-preview")
    draft = render_letter_pdf(compose_letter(letter_input("reply", items=[ITEM])).body, number=None,
                              issued_on=date(2026, 3, 5), draft=True)
    assert "草稿" in pdf_text(draft)
