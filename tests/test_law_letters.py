"""Issue 11: letter texts the law prescribes, word for word (pure). Points 3, 6, 10."""

from datetime import date

from contracts.models import ComposeLetterInput, ReplyItem
from letters.compose import compose_letter
from outcomes import OutcomeCode


def letter(kind: str, **fields) -> str:
    return compose_letter(ComposeLetterInput(
        application_id="GK-2026-000011", kind=kind, agency_name="某市统计局", recipient_name="某某",
        letter_date=date(2026, 3, 5), received_on=date(2026, 3, 2), **fields)).body


ITEMS = [ReplyItem(item_no=1, description="某企业2025年报送的统计报表", outcome=OutcomeCode.DISCLOSED)]


def test_third_party_letter_keeps_reg_32_and_counts_from_receipt():
    body = letter("consultation-letter", items=ITEMS)
    assert ("根据《中华人民共和国政府信息公开条例》第三十二条的规定，现书面征求您（单位）的意见。"
            "请自收到本函之日起15个工作日内书面提出是否同意公开的意见；不同意公开的，请说明理由。") in body.split("\n\n")
    assert "逾期未提出意见的，由本机关依照《中华人民共和国政府信息公开条例》的规定决定是否公开。" in body.split("\n\n")
    assert "视为同意" not in body and "第三十四条" not in body


def test_co_producing_agency_letter_is_its_own_reg_34_letter():
    body = letter("agency-consultation-letter", items=ITEMS)
    paragraphs = body.split("\n\n")
    assert paragraphs[0] == "政府信息公开征求意见函"
    assert paragraphs[3] == "本机关于2026年3月2日收到政府信息公开申请，申请公开的下列政府信息由本机关与贵机关共同制作："
    assert paragraphs[5] == ("根据《中华人民共和国政府信息公开条例》第三十四条的规定，现征求贵机关对公开上述政府信息的意见。"
                             "请贵机关自收到本函之日起15个工作日内书面提出意见；逾期未提出意见的，视为同意公开。")
    assert "第三十二条" not in body and "商业秘密" not in body


def test_acknowledgment_promises_only_the_letters_that_are_sent():
    body = letter("acknowledgment", deadline_on=date(2026, 3, 23))
    assert body.split("\n\n")[4] == (
        "本机关将依法于2026年3月23日（含当日）前作出答复。需要您补正申请内容的，答复期限自本机关收到补正后的申请之日起重新计算；"
        "经批准延长答复期限的，答复期限相应延长；以上情形本机关将另行书面告知。"
        "征求第三方或者其他机关意见所需时间，不计算在答复期限内。")


def test_remedies_name_the_bodies_and_the_complaint_route():
    body = letter("reply", items=ITEMS, reconsideration_body="某市人民政府", court="某市某区人民法院",
                  complaint_body="上一级行政机关或者政府信息公开工作主管部门")
    assert body.split("\n\n")[-2] == (
        "如对本告知书不服，可以自收到本告知书之日起60日内依法向某市人民政府申请行政复议，"
        "或者自收到本告知书之日起6个月内依法向某市某区人民法院提起行政诉讼。"
        "认为本机关在政府信息公开工作中侵犯您合法权益的，也可以根据《中华人民共和国政府信息公开条例》第五十一条的规定，"
        "向上一级行政机关或者政府信息公开工作主管部门投诉、举报。")


def test_reg_36_4_and_36_5_are_cited_separately():
    absent = letter("reply", items=[ReplyItem(item_no=1, description="x信息", outcome=OutcomeCode.UNAVAILABLE_NOT_HELD,
                                               reasons="经检索，本机关未制作、获取该信息")])
    assert "依据：《中华人民共和国政府信息公开条例》第三十六条第（四）项。" in absent and "第（五）项" not in absent
    elsewhere = letter("reply", items=[ReplyItem(item_no=1, description="x信息", outcome=OutcomeCode.UNAVAILABLE_NOT_HELD,
                                                  reasons="该信息不属于本机关负责公开", referral="市住房和城乡建设局，电话 0591-12345678")])
    assert "依据：《中华人民共和国政府信息公开条例》第三十六条第（五）项。" in elsewhere and "第（四）项" not in elsewhere
    assert "负责公开该政府信息的机关及联系方式：市住房和城乡建设局，电话 0591-12345678" in elsewhere
    # Not this agency's, and the competent agency cannot be named: still 36(5), not "it does not exist".
    unknown = letter("reply", items=[ReplyItem(item_no=1, description="x信息", outcome=OutcomeCode.UNAVAILABLE_NOT_HELD,
                                                reasons="该信息不属于本机关负责公开，本机关无法确定负责公开该政府信息的机关",
                                                not_this_agency=True)])
    assert "依据：《中华人民共和国政府信息公开条例》第三十六条第（五）项。" in unknown and "第（四）项" not in unknown
    assert "负责公开该政府信息的机关及联系方式" not in unknown


def test_repeat_names_the_earlier_application():
    body = letter("reply", items=[ReplyItem(item_no=1, description="x信息", outcome=OutcomeCode.NOT_PROCESSED_REPEAT,
                                             reasons="与此前申请内容相同", earlier_application_id="GK-2026-000003")])
    assert "本机关已就您此前提出的相同申请（申请编号：GK-2026-000003）作出答复。" in body
