"""Issue 24 ("the law, exactly (II)") on the real server: nothing placeholder outside the embedded system (point 6),
fee notices that say how to pay and how the amount was counted (point 1), and no fee where the law allows none
(point 2). RULES §9; 国办函〔2020〕109号."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from api.main import create_app
from core.config import EXAMPLE_PAYMENT_TEXT, NO_PAYMENT_CHANNEL
from tests.conftest import staff_client
from tests.helpers import act, eventually, mails_about, register, send_action
from tests.letters_support import REPO_ROOT, pdf_attachments, pdf_text, preview_png, require_pdf_tools

APPLICANT = {"name": "钱七", "type": "natural-person", "id_number": "350102199001011238", "email": "qianqi@exact.example.cn"}
# A real agency's settings (the example values replaced), as an operator fills them in.
REAL = {"agency_name": "福州市统计局", "document_number_prefix": "榕统", "reconsideration_body": "福州市人民政府",
        "court": "福州市鼓楼区人民法院", "example_agency": False}
REMEDIES_OF_THE_FEE_NOTICE = (
    "如对本通知不服，可以自收到本通知之日起60日内依法向某市人民政府申请行政复议，"
    "或者自收到本通知之日起6个月内依法向某市某区人民法院提起行政诉讼。"
    "认为本机关在政府信息公开工作中侵犯您合法权益的，也可以根据《中华人民共和国政府信息公开条例》第五十一条的规定，"
    "向上一级行政机关或者政府信息公开工作主管部门投诉、举报。")


def _plain(message) -> str:
    return message.get_body(("plain",)).get_content()


# --- point 6: example values ---------------------------------------------------------------------------------


def _worker(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "worker.py"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_worker_refuses_to_start_on_example_values_naming_each_setting(client, tmp_path: Path):
    base = {k: v for k, v in os.environ.items() if k != "DISCLOSURE_EXAMPLE_AGENCY"} | {
        "DISCLOSURE_TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "DISCLOSURE_TEMPORAL_NAMESPACE": client.namespace, "DISCLOSURE_TASK_QUEUE": "example-values",
        "DISCLOSURE_DATABASE_URL": f"sqlite:///{tmp_path / 'example.db'}", "DISCLOSURE_DATA_DIR": str(tmp_path)}
    started = _worker(base)
    last = started.stderr.strip().splitlines()[-1]
    assert started.returncode != 0 and "worker polling" not in started.stdout + started.stderr
    for setting in ("DISCLOSURE_AGENCY_NAME（本机关名称（文书落款、页面抬头））仍为示例值「某市统计局」",
                    "DISCLOSURE_DOCUMENT_NUMBER_PREFIX", "DISCLOSURE_RECONSIDERATION_BODY", "DISCLOSURE_COURT"):
        assert setting in last, last
    # Everything real but the payment channel's text, still the example's: that one is named, and only it.
    real = base | {f"DISCLOSURE_{k.upper()}": str(v) for k, v in REAL.items() if k != "example_agency"} | {
        "DISCLOSURE_FEE_PAYMENT_CHANNEL": "counter", "DISCLOSURE_FEE_PAYMENT_TEXT": "某市财政局一楼缴费窗口"}
    started = _worker(real)
    last = started.stderr.strip().splitlines()[-1]
    assert started.returncode != 0 and "DISCLOSURE_FEE_PAYMENT_TEXT" in last and "DISCLOSURE_COURT" not in last, last


async def test_the_api_refuses_example_values_outside_the_embedded_system_and_marks_them_inside(
        env, api, client, settings, engine, mailbox):
    with pytest.raises(RuntimeError) as refused:
        create_app(settings.model_copy(update={"example_agency": False}), client=client, engine=engine)
    assert "DISCLOSURE_AGENCY_NAME" in str(refused.value) and "DISCLOSURE_COURT" in str(refused.value)
    # The session's stack is the embedded one, on example values: every page and letter says 示例机关.
    page = await api.get("/")
    assert "示例机关" in page.text and "某市统计局（示例机关）" in page.text
    created = await register(api, applicant={"name": "赵六", "type": "natural-person", "email": "zl@exact.example.cn"})
    app_id = created["application_id"]
    await eventually(api, app_id, lambda s: any(e["kind"] == "letter-sent" for e in s["timeline"]))
    acknowledgment = mails_about(mailbox.envelopes, app_id)[0]
    assert "某市统计局（示例机关，示例文书不得对外使用）\n" in _plain(acknowledgment)
    # A real agency's settings start, and nothing says 示例.
    real = create_app(settings.model_copy(update=REAL | {"fee_payment_channel": "account",
                                                          "fee_payment_text": "户名：福州市财政局；账号：3501"}),
                      client=client, engine=engine)
    async with staff_client(real, env) as http:
        page = await http.get("/")
    assert "福州市统计局" in page.text and "示例" not in page.text


# --- point 1: the payment channel, and how the amount was counted --------------------------------------------


async def test_no_fee_is_proposed_while_the_payment_channel_is_unset(env, api, client, settings, engine):
    app_id = (await register(api, resubmit=True, applicant=APPLICANT | {"email": "unset@exact.example.cn"}))["application_id"]
    unset = create_app(settings.model_copy(update=REAL | {"fee_payment_channel": None, "fee_payment_text": None}),
                       client=client, engine=engine)
    async with staff_client(unset, env) as http:
        refused = await send_action(http, app_id, "fee-proposal", {"standard": "per-page", "quantity": 120,
                                                                  "reason": "申请公开的信息达120页", "by": "wang"})
    assert refused.status_code == 409 and refused.json()["detail"] == NO_PAYMENT_CHANNEL
    assert "DISCLOSURE_FEE_PAYMENT_CHANNEL" in NO_PAYMENT_CHANNEL and "DISCLOSURE_FEE_PAYMENT_TEXT" in NO_PAYMENT_CHANNEL
    assert (await api.get(f"/api/v1/applications/{app_id}")).json()["fee"] is None  # nothing happened


async def test_the_fee_notice_says_how_the_amount_was_counted_how_to_pay_and_the_remedies(api, mailbox, tmp_path):
    app_id = (await register(api, resubmit=True, applicant=APPLICANT))["application_id"]
    await act(api, app_id, "fee-proposal", {"standard": "per-page", "quantity": 120,
                                             "reason": "申请公开的信息达120页，数量明显超过合理范围", "by": "wang"})
    approved = await act(api, app_id, "fee-decision", {"approve": True, "by": "chief-liu"})
    assert approved["fee"]["pay_by"] is None  # RULES §3 Service: the 20 working days run from the notice's receipt
    await eventually(api, app_id, lambda s: sum(e["kind"] == "letter-sent" for e in s["timeline"]) >= 2)
    mail = [m for m in mails_about(mailbox.envelopes, app_id) if "缴费通知" in m["Subject"]][0]
    paragraphs = _plain(mail).split("\n\n")
    assert "计算方法：共120页：30页以下（含30页）的部分不收费，第31-100页共70页×10元＝700元，" \
           "第101-120页共20页×20元＝400元；合计1100元。" in paragraphs
    assert "应缴金额：人民币1100元。" in paragraphs
    assert (f"请自收到本通知之日起20个工作日内，按以下方式缴纳：到缴费窗口缴纳，"
            f"{EXAMPLE_PAYMENT_TEXT}。缴费时请注明申请编号，缴费后请保留缴款凭证。缴费期间不计算在答复期限内。") in paragraphs
    assert REMEDIES_OF_THE_FEE_NOTICE in paragraphs
    assert "按本通知所附缴费方式" not in _plain(mail)
    require_pdf_tools()
    [(_, pdf)] = [a for a in pdf_attachments(mail) if a[0].endswith(".pdf")][:1]
    squashed = "".join(pdf_text(pdf).split())
    assert "合计1100元" in squashed and "到缴费窗口缴纳" in squashed and "向某市某区人民法院提起行政诉讼" in squashed
    preview_png(pdf, "fee-notice-issue24", tmp_path)


# --- point 2: no fee where the law allows none ---------------------------------------------------------------


async def test_no_fee_after_the_reply_period_nor_per_page_for_inspection_and_a_waiver_is_the_supervisors(env, api, client):
    inspect = (await register(api, resubmit=True, applicant=APPLICANT | {"email": "look@exact.example.cn"},
                              delivery_method="inspection"))["application_id"]
    refused = await send_action(api, inspect, "fee-proposal", {"standard": "per-page", "quantity": 120,
                                                               "reason": "申请查阅的信息达120页", "by": "wang"})
    assert refused.status_code == 409 and "现场查阅" in refused.json()["detail"] and "不能按量计收" in refused.json()["detail"]

    late = (await register(api, resubmit=True, applicant=APPLICANT | {"email": "late@exact.example.cn"}))["application_id"]
    proposed = await act(api, late, "fee-proposal", {"standard": "per-page", "quantity": 120,
                                                      "reason": "申请公开的信息达120页", "by": "wang"})
    due_on = proposed["due"]["due_on"]
    await env.fast_forward(client.get_workflow_handle(late), timedelta(days=45))
    await eventually(api, late, lambda s: s["overdue"])
    refused = await send_action(api, late, "fee-decision", {"approve": True, "by": "chief-liu"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == (f"答复期限已于 {due_on} 届满：收费须在答复期限内通知申请人（国办函〔2020〕109号），"
                                        "期限届满后不能再收费")
    await act(api, late, "fee-decision", {"approve": False, "comment": "期限已过", "by": "chief-liu"})
    again = await send_action(api, late, "fee-proposal", {"standard": "per-page", "quantity": 120,
                                                           "reason": "申请公开的信息达120页", "by": "wang"})
    assert again.status_code == 409 and f"答复期限已于 {due_on} 届满" in again.json()["detail"]

    fee_id = (await register(api, resubmit=True, applicant=APPLICANT | {"email": "waive@exact.example.cn"}))["application_id"]
    await act(api, fee_id, "fee-proposal", {"standard": "per-page", "quantity": 120, "reason": "信息达120页", "by": "wang"})
    approved = await act(api, fee_id, "fee-decision", {"approve": True, "by": "chief-liu"})
    today = approved["as_of"]
    for who in ("desk-chen", "wang"):
        refused = await send_action(api, fee_id, "fee-payment", {"paid_on": today, "waived": True,
                                                                 "note": "经济困难，依申请减免", "by": who})
        assert refused.status_code == 409 and "减免信息处理费须由负责人决定" in refused.json()["detail"]
    no_reason = await send_action(api, fee_id, "fee-payment", {"paid_on": today, "waived": True, "note": "减免",
                                                               "by": "chief-liu"})
    assert no_reason.status_code == 409 and no_reason.json()["detail"] == "减免须由负责人说明理由"
    waived = await act(api, fee_id, "fee-payment", {"paid_on": today, "waived": True, "note": "申请人经济困难，依申请减免",
                                                    "by": "chief-liu"})
    assert waived["fee"]["waived"] and waived["fee"]["settled_by"] == "chief-liu"


# --- point 4: Reg. 41 不予更正, and every decision's letter through the confidentiality review ----------------


async def test_a_correction_is_refused_with_reasons_and_remedies_after_the_review(api, mailbox, tmp_path):
    from core import clock

    body = {"person_name": "孙五", "email": "sunwu@exact.example.cn", "record": "2025年统计执法检查公告中本人企业的违法事实",
            "correction": "公告称本企业未按期报送年报，实际已按期报送", "evidence": "报送系统截图",
            "received_on": clock.today().isoformat()}
    created = await api.post("/api/v1/corrections", json=body, headers=api.as_user("desk-chen"))
    correction_id = created.json()["correction_id"]
    path = f"/api/v1/corrections/{correction_id}"
    short = await api.post(f"{path}/refuse", json={"record_accurate": False, "reasons": "无"}, headers=api.as_user("wang"))
    assert short.status_code == 422
    reasons = "报送系统记录显示该企业2025年年报于2026年4月2日提交，晚于3月31日的报送期限，截图所示为草稿保存时间"
    drafted = await api.post(f"{path}/refuse", json={"record_accurate": False, "reasons": reasons},
                             headers=api.as_user("wang"))
    assert drafted.status_code == 200 and drafted.json()["status"] == "in-review", drafted.text
    assert "本机关决定不予更正" in drafted.json()["letter_draft"] and drafted.json()["decided_by"] == "wang"
    assert not mails_about(mailbox.envelopes, correction_id)  # nothing leaves before the review
    assert (await api.post(f"{path}/correct", json={"result": "已更正为按期报送"}, headers=api.as_user("wang"))).status_code == 409
    assert (await api.post(f"{path}/review", json={"approve": True}, headers=api.as_user("wang"))).status_code == 403
    returned = await api.post(f"{path}/review", json={"approve": False, "comment": "理由中不宜写明报送系统内部记录方式"},
                              headers=api.as_user("reviewer-zhao"))
    assert returned.status_code == 200 and returned.json()["status"] == "handling"
    await api.post(f"{path}/refuse", json={"record_accurate": False, "reasons": reasons}, headers=api.as_user("wang"))
    sent = await api.post(f"{path}/review", json={"approve": True}, headers=api.as_user("reviewer-zhao"))
    assert sent.status_code == 200 and sent.json()["status"] == "refused", sent.text
    for _ in range(100):
        if mails := mails_about(mailbox.envelopes, correction_id):
            break
        import asyncio
        await asyncio.sleep(0.2)
    [mail] = mails
    received = clock.today()
    paragraphs = _plain(mail).split("\n\n")
    assert "不予更正政府信息告知书" in mail["Subject"]
    for expected in (
        f"本机关于{received.year}年{received.month}月{received.day}日收到您提出的更正与您自身相关的政府信息记录的申请：",
        "1. 2025年统计执法检查公告中本人企业的违法事实：公告称本企业未按期报送年报，实际已按期报送",
        f"经审查，您提供的证据不能证明该政府信息记录不准确。理由：{reasons}。",
        "根据《中华人民共和国政府信息公开条例》第四十一条的规定，本机关决定不予更正。",
        "如对本告知书不服，可以自收到本告知书之日起60日内依法向某市人民政府申请行政复议，"
        "或者自收到本告知书之日起6个月内依法向某市某区人民法院提起行政诉讼。"
        "认为本机关在政府信息公开工作中侵犯您合法权益的，也可以根据《中华人民共和国政府信息公开条例》第五十一条的规定，"
        "向上一级行政机关或者政府信息公开工作主管部门投诉、举报。",
    ):
        assert expected in paragraphs, (expected, paragraphs)
    require_pdf_tools()
    [(_, pdf)] = [a for a in pdf_attachments(mail) if a[0].endswith(".pdf")][:1]
    assert "本机关决定不予更正" in "".join(pdf_text(pdf).split())
    preview_png(pdf, "correction-refused-issue24", tmp_path)


# --- point 5: Reg. 36(1) when already proactively disclosed (where), 36(2) when provided now ------------------


async def test_the_reply_cites_36_1_with_where_for_published_information_and_36_2_for_information_provided_now(
        api, client, mailbox):
    app_id = (await register(api, applicant={"name": "周一", "type": "natural-person", "email": "zhouyi@exact.example.cn"},
                             items=[{"description": "2025年全市统计公报"}, {"description": "2025年全市规模以上工业企业户数"}]))[
        "application_id"]
    # The guidance decides: already public needs where, and then cites 36(1) only.
    guided = (await api.post(f"/api/v1/applications/{app_id}/guidance", headers=api.as_user("wang"), json={
        "item_no": 1, "supplement": "clear", "nature": "disclosure", "responsible": "this-agency", "exists": "yes",
        "exemption": "none", "third_party": "none", "form": "already-public", "where": "本局门户网站“统计公报”栏目"}))
    assert guided.status_code == 200, guided.text
    g = guided.json()
    assert g["legal_basis"] == "《中华人民共和国政府信息公开条例》第三十六条第（一）项" and g["published_at"] == "本局门户网站“统计公报”栏目"
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "reasons": g["reasons"],
                                         "published_at": g["published_at"], "by": "wang"})
    await act(api, app_id, "decisions", {"item_no": 2, "outcome": "disclosed", "by": "wang"})
    await act(api, app_id, "submit", {"by": "wang"})
    await act(api, app_id, "review", {"approve": True, "by": "reviewer-zhao"})
    await act(api, app_id, "sign", {"by": "chief-liu"})
    await eventually(api, app_id, lambda s: any("答复" in m["Subject"] for m in mails_about(mailbox.envelopes, app_id)))
    reply = _plain([m for m in mails_about(mailbox.envelopes, app_id) if "答复" in m["Subject"]][0])
    first, second = (p for p in reply.split("\n\n") if p.startswith("第1项") or p.startswith("第2项"))
    assert first == ("第1项：2025年全市统计公报\n处理结果：予以公开\n"
                     "理由：您申请的信息已经主动公开，可以通过本局门户网站“统计公报”栏目获取（《中华人民共和国政府信息公开条例》第三十六条第（一）项）。\n"
                     "获取方式：该信息已主动公开，可以通过本局门户网站“统计公报”栏目获取\n"
                     "依据：《中华人民共和国政府信息公开条例》第三十六条第（一）项。")
    assert second.startswith("第2项：2025年全市规模以上工业企业户数\n处理结果：予以公开\n")
    assert second.endswith("依据：《中华人民共和国政府信息公开条例》第三十六条第（二）项。") and "第（一）项" not in second


# --- point 10: the supplement deadline's minimum, an agency setting --------------------------------------------


@pytest.mark.dates
async def test_a_supplement_deadline_shorter_than_the_agencys_minimum_is_refused_with_the_reason(api):
    from clock import add_working_days_from
    from core.clock import today
    from workcalendar import WorkCalendar, load_calendar_data

    calendar = WorkCalendar(load_calendar_data())
    app_id = (await register(api, applicant={"name": "吴二", "type": "natural-person", "email": "wuer@exact.example.cn"}))[
        "application_id"]
    assert api.app.state.settings.supplement_min_working_days == 10  # the default
    for days in (1, 9):
        deadline = add_working_days_from(calendar, today(), days)[0]
        refused = await send_action(api, app_id, "supplement-request",
                                    {"needed": ["所需信息的文号"], "deadline_on": deadline.isoformat(), "by": "wang"})
        assert refused.status_code == 409, refused.text
        assert refused.json()["detail"] == (f"补正期限须给申请人合理的时间：至少 10 个工作日（自收到补正通知之日起计算，本机关设置），"
                                            f"截至 {deadline} 只有 {days} 个工作日")
    deadline = add_working_days_from(calendar, today(), 10)[0]
    asked = await act(api, app_id, "supplement-request",
                      {"needed": ["所需信息的文号"], "deadline_on": deadline.isoformat(), "by": "wang"})
    assert asked["supplement"]["deadline_on"] == deadline.isoformat()


# --- point 7: 不予处理-2 names an answered application of the same applicant with a matching item ---------------


async def test_a_repeat_must_name_an_answered_application_of_the_same_applicant_with_a_matching_item(api, mailbox):
    same = {"name": "冯四", "type": "natural-person", "id_number": "11010519491231002X", "email": "fengsi@exact.example.cn"}
    other = same | {"id_number": "350102199001011238"}  # the same name and e-mail, another person's identity number
    wanted = "2025年全市规模以上工业企业名录"

    async def answered(applicant, description):
        app_id = (await register(api, resubmit=True, applicant=applicant, items=[{"description": description}]))["application_id"]
        await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"})
        await act(api, app_id, "submit", {"by": "wang"})
        await act(api, app_id, "review", {"approve": True, "by": "reviewer-zhao"})
        await act(api, app_id, "sign", {"by": "chief-liu"})
        await eventually(api, app_id, lambda s: s["status"] == "closed")
        return app_id

    open_one = (await register(api, resubmit=True, applicant=same, items=[{"description": wanted}]))["application_id"]
    others = await answered(other, wanted)
    unlike = await answered(same, "2024年全市居民消费价格指数月度数据")
    earlier = await answered(same, wanted)
    app_id = (await register(api, resubmit=True, applicant=same, items=[{"description": "2025年全市规上工业企业名录"}]))["application_id"]

    async def propose(earlier_id):
        return await send_action(api, app_id, "decisions", {"item_no": 1, "outcome": "not-processed-2",
                                                            "reasons": "与此前申请内容相同",
                                                            "earlier_application_id": earlier_id, "by": "wang"})

    for earlier_id, reason in (
        ("GK-2020-999999", "没有申请编号为 GK-2020-999999 的此前申请，不能认定为重复申请"),
        (open_one, f"申请 {open_one} 尚未作出答复（办理中），不能认定为重复申请"),
        (others, f"申请 {others} 不是同一申请人（身份证件号码不同）提出的，不能认定为重复申请"),
    ):
        refused = await propose(earlier_id)
        assert refused.status_code == 409 and refused.json()["detail"] == reason, refused.text
    refused = await propose(unlike)
    assert refused.status_code == 409 and f"第 1 项与申请 {unlike} 的各项内容不相同" in refused.json()["detail"]
    assert "相似度" in refused.json()["detail"] and "须达到 80" in refused.json()["detail"]
    # The body cannot carry a score of its own.
    forged = await send_action(api, app_id, "decisions", {"item_no": 1, "outcome": "not-processed-2", "reasons": "重复",
                                                          "earlier_application_id": earlier, "earlier_similarity": 100,
                                                          "by": "wang"})
    assert forged.status_code == 422
    proposed = await propose(earlier)
    assert proposed.status_code == 200, proposed.text
    score = proposed.json()["items"][0]["proposal"]["earlier_similarity"]
    assert 80 <= score < 100
    assert any(f"与 {earlier} 的事项相似度 {score:.1f}" in e["summary"] for e in proposed.json()["timeline"])


# --- point 8: Reg. 35: the handler drafts from the head's decision; that head may sign ---------------------------


async def test_the_supervisor_who_found_the_reasons_unreasonable_may_sign_the_reply_the_handler_drafted(env, api, client):
    from contracts.application_view import ApplicationOutcome

    app_id = (await register(api, applicant={"name": "陈九", "type": "natural-person", "email": "chenjiu@exact.example.cn"}))[
        "application_id"]
    await act(api, app_id, "reasons-request", {"grounds": "本月已提出申请42件，涉及全市各年度统计报表", "by": "wang"})
    # RULES §3 Service: the period runs from the request's proven receipt (its e-mail's delivery report).
    await eventually(api, app_id, lambda s: s["excessive"]["service"]["served_on"] is not None)
    await env.fast_forward(client.get_workflow_handle(app_id), timedelta(days=30))
    await eventually(api, app_id, lambda s: any(e["kind"] == "reasons-deadline-passed" for e in s["timeline"]))
    decided = await act(api, app_id, "excessive-decision",
                        {"reasonable": False, "reason": "申请人逾期未说明理由", "by": "chief-liu"})
    proposal = decided["items"][0]["proposal"]
    assert proposal["outcome"] == "not-processed-4" and proposal["by"] == "wang" and proposal["decided_by"] == "chief-liu"
    await act(api, app_id, "submit", {"by": "wang"})
    await act(api, app_id, "review", {"approve": True, "by": "reviewer-zhao"})
    await act(api, app_id, "sign", {"by": "chief-liu"})  # the same supervisor: drafter and signer differ
    outcome = await client.get_workflow_handle(app_id, result_type=ApplicationOutcome).result()
    assert outcome.status == "closed" and [i.final_outcome for i in outcome.items] == ["not-processed-4"]


# --- point 3: an objection without reasonable grounds (RULES §5), apart from the public-interest override ---------


async def test_an_objection_without_reasonable_grounds_is_recorded_told_in_writing_and_not_an_override(
        api, client, mailbox, tmp_path):
    from contracts.application_view import ApplicationOutcome

    app_id = (await register(api, applicant={"name": "褚十", "type": "natural-person", "email": "chushi@exact.example.cn"},
                             items=[{"description": "某商贸有限公司2025年统计执法检查结果"}]))["application_id"]
    consulting = await act(api, app_id, "consultations", {
        "consultee": {"kind": "third-party", "name": "某商贸有限公司", "email": "legal@objection.example.cn"},
        "item_nos": [1], "by": "wang"})
    consultation_id = consulting["consultations"][0]["consultation_id"]
    answered = await api.post(f"/api/v1/consultations/{consultation_id}/answer", headers=api.as_user("desk-chen"),
                              json={"position": "objection", "reasons": "不同意公开，公开对本公司不利"})
    assert answered.status_code == 200, answered.text
    await eventually(api, app_id, lambda s: any(e["kind"] == "consultation-answered" for e in s["timeline"]))
    why = "检查结果属于行政执法结果，依法应当公开，不涉及商业秘密，第三方未说明公开会损害其何种合法权益"
    decided = await act(api, app_id, "override", {"consultation_id": consultation_id, "basis": "grounds-not-reasonable",
                                                  "reason": why, "by": "chief-liu"})
    item = decided["items"][0]
    assert item["objection_unreasonable"] is True and item["overridden"] is False  # not the public-interest override
    assert decided["consultations"][0]["override_basis"] == "grounds-not-reasonable"
    assert decided["timeline"][-1]["kind"] == "objection-not-reasonable"
    assert not any(e["kind"] == "objection-overridden" for e in decided["timeline"])
    await eventually(api, app_id, lambda s: any("不予采纳" in m["Subject"] for m in mails_about(mailbox.envelopes, app_id)))
    notice = [m for m in mails_about(mailbox.envelopes, app_id) if "legal@objection.example.cn" in (m["To"] or "")
              and "不予采纳" in m["Subject"]][0]
    paragraphs = _plain(notice).split("\n\n")
    for expected in (
        "第三方意见不予采纳告知书",
        "某商贸有限公司：",
        "本机关在办理政府信息公开申请过程中，就下列政府信息书面征求了您（单位）的意见，您（单位）不同意公开。",
        "经审查，本机关认为您（单位）不同意公开的理由不合理，根据《中华人民共和国政府信息公开条例》第十五条、第三十二条的规定，"
        "决定予以公开。现将决定公开的政府信息内容和理由书面告知如下。",
        "决定公开的内容：\n1. 某商贸有限公司2025年统计执法检查结果",
        f"理由：{why}。",
        "本机关将在向申请人答复时公开上述政府信息。",
    ):
        assert expected in paragraphs, (expected, paragraphs)
    assert any(p.startswith("如对本告知书不服，可以自收到本告知书之日起60日内依法向某市人民政府申请行政复议") for p in paragraphs)
    assert "公共利益" not in _plain(notice)
    require_pdf_tools()
    [(_, pdf)] = [a for a in pdf_attachments(notice) if a[0].endswith(".pdf")][:1]
    assert "您（单位）不同意公开的理由不合理" in "".join(pdf_text(pdf).split())
    preview_png(pdf, "objection-unreasonable-notice-issue24", tmp_path)
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"})
    await act(api, app_id, "submit", {"by": "wang"})
    await act(api, app_id, "review", {"approve": True, "by": "reviewer-zhao"})
    await eventually(api, app_id, lambda s: any(l["key"] == f"{app_id}:override-{consultation_id}"
                                                and l["status"] == "sent" for l in s["letters"]))
    await act(api, app_id, "sign", {"by": "chief-liu"})
    outcome = await client.get_workflow_handle(app_id, result_type=ApplicationOutcome).result()
    assert [i.final_outcome for i in outcome.items] == ["disclosed"]


# --- point 9: back-dated receipts: evidence outside the current year; a published year's amendment raised --------

TABLE2 = {"rules": {"made": 0, "repealed": 0, "in_force": 2}, "normative-documents": {"made": 3, "repealed": 1, "in_force": 12},
          "licensing": {"decisions": 0}, "penalties": {"decisions": 5}, "coercion": {"decisions": 0},
          "fees": {"amount_10k_yuan": 0}}


async def test_a_receipt_in_an_earlier_year_needs_its_evidence_and_a_published_year_is_flagged_for_amendment(isolated_api):
    from datetime import date

    from core.clock import today
    from tests.helpers import application_body, send_registration

    api = isolated_api
    year = today().year - 1
    received = date(year, 12, 31)  # within max_receipt_age_days (366) whenever this runs
    draft = await api.put(f"/api/v1/reports/annual/{year}/draft", json={"table2": TABLE2})
    assert draft.status_code == 200, draft.text
    published = await api.post(f"/api/v1/reports/annual/{year}/publish")
    assert published.status_code == 200, published.text
    assert published.json()["amendment_needed"] is None

    body = application_body(received_on=received.isoformat(), channel="letter-registered",
                            applicant={"name": "蒋七", "type": "natural-person", "email": "jiangqi@exact.example.cn"})
    body.pop("receipt_evidence")
    refused = await send_registration(api, body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"] == (f"收到申请之日 {received} 不在本年度，须写明收到日期的证据（receipt_evidence，"
                                        f"如挂号信签收记录、邮戳、传真或系统接收记录）：该申请计入 {year} 年度报告")
    evidence = f"挂号信 XA123456789CN，{received} 签收记录"
    created = await send_registration(api, body | {"receipt_evidence": evidence})
    assert created.status_code == 201, created.text
    app_id = created.json()["application_id"]

    report = (await api.get(f"/api/v1/reports/annual/{year}")).json()
    needed = report["amendment_needed"]
    assert needed["reason"].startswith(f"{year}年度报告第1版公布后，又登记了 1 件收到于{year}年的申请，"
                                       "已公布的数字（表三）与记录不再一致，须提交更正（amendments）并说明理由：")
    assert f"{app_id}（收到于 {received}" in needed["reason"]
    [late] = needed["applications"]
    assert late["application_id"] == app_id and f"收到日期的证据：{evidence}" in late["registration"]
    amended = await api.post(f"/api/v1/reports/annual/{year}/amendments",
                             json={"reason": f"补登记 {app_id}（{evidence}）"})
    assert amended.status_code == 200, amended.text
    assert amended.json()["version"] == 2 and amended.json()["amendment_needed"] is None
