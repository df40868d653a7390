"""Issue 11 points 9-11 on the real server: determination preconditions, reply content, forms of delivery."""

import pytest
import time_machine

from clock import local_date
from letters.documents import pdf_text
from tests.helpers import act, eventually, mails_about, register, send_action, state, through_review, today
from tests.letters_support import require_pdf_tools


async def signed_reply(api, mailbox, app_id: str) -> str:
    """Submitted, approved and signed: the application closes; the reply letter's text as mailed."""
    await act(api, app_id, "submit", {"by": "wang"})
    await act(api, app_id, "review", {"approve": True, "by": "reviewer-zhao"})
    await act(api, app_id, "sign", {"by": "chief-liu"})
    await eventually(api, app_id, lambda s: s["status"] == "closed")
    return [m for m in mails_about(mailbox.envelopes, app_id) if "答复" in m["Subject"]][0].get_body(("plain",)).get_content()


async def test_unclear_after_supplement_only_after_a_supplement(api):
    app_id = (await register(api))["application_id"]
    refused = await send_action(api, app_id, "decisions", {"item_no": 1, "outcome": "unavailable-3",
                                                            "reasons": "申请内容不明确", "by": "wang"})
    assert refused.status_code == 409 and "补正" in refused.json()["detail"]
    await act(api, app_id, "supplement-request", {"needed": ["请写明文号"], "by": "wang"})
    await act(api, app_id, "supplement", {"received_on": (await eventually(api, app_id, lambda s: True))["as_of"],
                                          "by": "desk-chen"})
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "unavailable-3", "reasons": "补正后仍不明确", "by": "wang"})


async def test_repeat_names_the_earlier_application_and_the_reply_names_remedies(api, mailbox):
    # Issue 24 point 7: the earlier application is the same applicant's (identity number) and already answered.
    repeater = {"name": "郑三", "type": "natural-person", "id_number": "11010519491231002X", "email": "zs@decisions.example.cn"}
    earlier = (await register(api, applicant=repeater))["application_id"]
    await act(api, earlier, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"})
    await signed_reply(api, mailbox, earlier)
    app_id = (await register(api, applicant=repeater, items=[{"description": "2025年全市规模以上工业企业名录"},
                                                             {"description": "2025年某区房价原始数据"}]))["application_id"]
    for body in ({"item_no": 1, "outcome": "not-processed-2", "reasons": "重复申请", "by": "wang"},
                 {"item_no": 1, "outcome": "not-processed-2", "reasons": "重复申请", "earlier_application_id": app_id,
                  "by": "wang"}):
        refused = await send_action(api, app_id, "decisions", body)
        assert refused.status_code == 409 and "重复申请" in refused.json()["detail"], refused.text
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "not-processed-2", "reasons": "与此前申请内容相同",
                                         "earlier_application_id": earlier, "by": "wang"})
    await act(api, app_id, "decisions", {"item_no": 2, "outcome": "unavailable-1", "reasons": "不属于本机关负责公开",
                                         "referral": "市住房和城乡建设局，电话 0591-12345678", "by": "wang"})
    body = await signed_reply(api, mailbox, app_id)
    assert f"申请编号：{earlier}" in body
    assert "第三十六条第（五）项" in body
    assert "60日内依法向某市人民政府申请行政复议" in body and "6个月内依法向某市某区人民法院提起行政诉讼" in body
    assert "第五十一条" in body and "投诉、举报" in body


async def test_not_this_agencys_information_cites_36_5_even_when_the_competent_agency_is_unknown(api, mailbox):
    """Reg. 36(4) (searched: it does not exist) and 36(5) (not this agency's to disclose) are cited separately;
    36(5) does not depend on the handler being able to name the competent agency."""
    app_id = (await register(api, items=[{"description": "2025年某区房价原始数据"},
                                         {"description": "2019年某专项调查的原始问卷"}]))["application_id"]
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "unavailable-1", "not_this_agency": True,
                                         "reasons": "该信息不属于本机关负责公开，本机关无法确定负责公开该政府信息的机关",
                                         "by": "wang"})
    await act(api, app_id, "decisions", {"item_no": 2, "outcome": "unavailable-1",
                                         "reasons": "经检索，本机关未制作、获取该信息", "by": "wang"})
    body = await signed_reply(api, mailbox, app_id)
    first, second = body.split("第1项：", 1)[1].split("第2项：", 1)
    assert "依据：《中华人民共和国政府信息公开条例》第三十六条第（五）项。" in first and "第（四）项" not in first
    assert "依据：《中华人民共和国政府信息公开条例》第三十六条第（四）项。" in second and "第（五）项" not in second


async def test_disc_and_on_site_inspection_are_forms_of_delivery(api):
    for method in ("disc", "inspection", "portal", "pickup"):
        created = await register(api, delivery_method=method)
        assert created["application_id"]


def squash(text: str) -> str:
    return "".join(text.split())


async def letter_rows(api, app_id: str) -> dict[str, dict]:
    response = await api.get(f"/api/v1/applications/{app_id}/letters")
    assert response.status_code == 200, response.text
    return {row["key"].removeprefix(f"{app_id}:"): row for row in response.json()}


async def reply_awaiting_staff(api, app_id: str) -> str:
    """Approved and signed; the reply is issued for staff to deliver (not e-mailed): its PDF's text."""
    await through_review(api, app_id, {1: ("disclosed", "")})
    await act(api, app_id, "sign", {"by": "chief-liu"})
    waiting = await eventually(api, app_id, lambda s: any(
        letter["kind"] == "reply" and letter["status"] == "awaiting-staff" for letter in s["letters"]))
    assert waiting["status"] == "awaiting-delivery"
    document = await api.get(f"/api/v1/applications/{app_id}/letters/{app_id}:reply/document.pdf")
    assert document.status_code == 200 and document.content.startswith(b"%PDF")
    return squash(pdf_text(document.content))


async def serve_reply(api, app_id: str, body: dict) -> dict:
    response = await api.post(f"/api/v1/applications/{app_id}/letters/{app_id}:reply/service", json=body,
                              headers=api.as_user("desk-chen"))
    assert response.status_code == 200, response.text
    return response.json()


# Reg. 29 (the form the applicant asks for), Reg. 40 (the agency states the form it provides the information in).
REPLY_ITEM = "第1项：2025年全市规模以上工业企业名录\n处理结果：予以公开\n提供方式：{how}\n依据：《中华人民共和国政府信息公开条例》"
INSPECTION = "以现场查阅的形式提供，请于收到本告知书之日起在工作日到本机关政府信息公开受理窗口查阅、抄录"


@pytest.mark.dates
async def test_a_reply_on_disc_says_so_and_its_posting_and_signed_for_date_are_its_evidence(api, mailbox):
    """Point 11 (Reg. 29, 40) with point 14: the disc goes with the reply by post; the signed-for date delivers it."""
    require_pdf_tools()
    app_id = (await register(api, delivery_method="disc"))["application_id"]
    text = await reply_awaiting_staff(api, app_id)
    assert squash(REPLY_ITEM.format(how="以光盘形式，随本告知书提供")) in text
    assert not [m for m in mails_about(mailbox.envelopes, app_id) if "答复" in m["Subject"]]  # a disc is not e-mailed

    on = today().isoformat()
    posted = await serve_reply(api, app_id, {"method": "post", "posted_on": on, "tracking_number": "EMS5550001112CN"})
    assert posted["status"] == "awaiting-staff" and posted["evidence"]["served_on"] is None
    assert (await state(api, app_id))["status"] == "awaiting-delivery"  # posted is not received
    signed = await serve_reply(api, app_id, {"method": "post", "served_on": on, "received_by": "张三"})
    evidence = signed["evidence"]
    assert signed["status"] == "delivered" and evidence["served_on"] == on and evidence["method"] == "post"
    assert evidence["tracking_number"] == "EMS5550001112CN" and evidence["received_by"] == "张三"
    assert f"邮寄：{on} 交邮，邮件单号 EMS5550001112CN" in evidence["lines"]
    assert any(line.startswith(f"签收：{on} 签收，签收人 张三（desk-chen 于") for line in evidence["lines"])
    closed = await eventually(api, app_id, lambda s: s["status"] == "closed")
    assert closed["delivered_on"] == on
    reply = next(letter for letter in closed["letters"] if letter["kind"] == "reply")
    assert reply["status"] == "delivered" and reply["tracking_number"] == "EMS5550001112CN"
    assert "答复已送达（邮寄，邮件单号 EMS5550001112CN）" in [e["summary"] for e in closed["timeline"]]


@pytest.mark.dates
async def test_a_reply_for_on_site_inspection_says_where_and_when_and_its_pickup_signature_is_its_evidence(api, mailbox):
    """Point 11 (Reg. 40: 安排申请人查阅、抄录) with point 14: the reply is signed for at the window."""
    require_pdf_tools()
    app_id = (await register(api, delivery_method="inspection"))["application_id"]
    text = await reply_awaiting_staff(api, app_id)
    assert squash(REPLY_ITEM.format(how=INSPECTION)) in text
    assert not [m for m in mails_about(mailbox.envelopes, app_id) if "答复" in m["Subject"]]

    on = today().isoformat()
    picked = await serve_reply(api, app_id, {"method": "pickup", "served_on": on, "received_by": "张三"})
    evidence = picked["evidence"]
    assert picked["status"] == "delivered" and evidence["method"] == "pickup" and evidence["served_on"] == on
    assert evidence["received_by"] == "张三" and evidence["handed_over_by"] == "desk-chen"
    assert any(line.startswith(f"领取：{on}，张三 签收，经办人 desk-chen（desk-chen 于") for line in evidence["lines"])
    closed = await eventually(api, app_id, lambda s: s["status"] == "closed")
    assert closed["delivered_on"] == on
    assert "答复已送达（当面领取）" in [e["summary"] for e in closed["timeline"]]


@pytest.mark.dates
async def test_a_portal_reply_says_so_and_the_applicants_download_delivers_it(env, api, client, mailbox):
    """Point 11 with point 14: the portal download is the delivery and its evidence."""
    require_pdf_tools()
    app_id = (await register(api, delivery_method="portal"))["application_id"]
    text = await reply_awaiting_staff(api, app_id)
    assert squash(REPLY_ITEM.format(how="以电子文档形式提供，请通过本机关政府信息公开申请平台下载")) in text
    assert not [m for m in mails_about(mailbox.envelopes, app_id) if "答复" in m["Subject"]]

    now = await env.get_current_time(client.get_workflow_handle(app_id))
    with time_machine.travel(now, tick=False):  # the API's clock and the server's agree, as in production
        download = await api.get(f"/api/v1/portal/applications/{app_id}/reply.pdf", headers=api.as_applicant(app_id))
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    downloaded_on = local_date(now).isoformat()
    closed = await eventually(api, app_id, lambda s: s["status"] == "closed")
    assert closed["delivered_on"] == downloaded_on
    evidence = (await letter_rows(api, app_id))["reply"]["evidence"]
    assert evidence["served_on"] == downloaded_on and evidence["downloaded_by"].startswith("申请人")
    assert any(line.startswith("在线下载：申请人") for line in evidence["lines"])


async def test_a_pickup_reply_says_where_to_collect_it(api):
    require_pdf_tools()
    app_id = (await register(api, delivery_method="pickup"))["application_id"]
    text = await reply_awaiting_staff(api, app_id)
    assert squash(REPLY_ITEM.format(
        how="以纸质复制件形式提供，请于收到本告知书之日起在工作日到本机关政府信息公开受理窗口领取")) in text


async def test_the_handler_is_shown_similar_earlier_applications_of_the_same_applicant(api):
    """Point 9: similar Chinese text of the same applicant's earlier applications (rapidfuzz), for 不予处理-2."""
    me = {"name": "赵六", "type": "natural-person", "email": "zhaoliu@similar.example.cn", "phone": "13900000001"}
    other = {"name": "钱七", "type": "natural-person", "email": "qianqi@similar.example.cn"}
    earlier = (await register(api, applicant=me, items=[{"description": "2025年全市规模以上工业企业名录"},
                                                        {"description": "2024年统计公报"}]))["application_id"]
    await register(api, applicant=other, items=[{"description": "2025年全市规模以上工业企业名录"}])
    now = (await register(api, applicant=me, items=[{"description": "2025年某区房价原始数据"},
                                                    {"description": "2025年全市规模以上工业企业名录（含地址）"}]))["application_id"]
    response = await api.get(f"/api/v1/applications/{now}/similar-earlier", headers=api.as_user("wang"))
    assert response.status_code == 200, response.text
    found = response.json()
    assert [(f["item_no"], f["earlier_application_id"], f["earlier_item_no"]) for f in found] == [(2, earlier, 1)]
    assert found[0]["score"] >= 80


async def test_disclosure_says_how_and_partial_disclosure_names_its_ground(api, mailbox):
    """Point 10: 予以公开 states how it is provided; 部分公开 states the ground of the withheld part (Reg. 37, 40)."""
    app_id = (await register(api, items=[{"description": "2025年统计公报"},
                                         {"description": "某企业2025年统计执法检查记录"}]))["application_id"]
    refused = await send_action(api, app_id, "decisions", {"item_no": 2, "outcome": "partly-disclosed",
                                                            "reasons": "部分涉及商业秘密", "by": "wang"})
    assert refused.status_code == 409 and "理由类别" in refused.json()["detail"]
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"})
    await act(api, app_id, "decisions", {"item_no": 2, "outcome": "partly-disclosed", "reasons": "部分涉及商业秘密",
                                         "withheld_ground": "withheld-4", "by": "wang"})
    body = await signed_reply(api, mailbox, app_id)
    assert body.count("提供方式：以电子文档形式，随本告知书通过电子邮件提供") == 2
    assert "不予公开部分的理由类别：不予公开：保护第三方合法权益（依据：《中华人民共和国政府信息公开条例》第十五条、第三十二条、第三十六条第（三）项）" in body
