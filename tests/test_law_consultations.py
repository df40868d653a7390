"""Issue 11, points 1-4: consultations counted from the letter's receipt (Reg. 32, 34), on the real server.

The clock stops on dispatch, the consultee's 15 working days run from receipt (provisional until it
is known), an answer counts by the day the agency received it even when entered after the window,
a third party cannot date its own answer, and a consultation whose workflow ended abnormally is
shown to staff and can be restarted.
"""

import asyncio
import uuid
from datetime import date, timedelta

import httpx
import pytest
from sqlmodel import Session, select

from clock import add_working_days_from, local_date
from core.security import third_party_token
from db.models import StaffAlert
from letters.documents import pdf_text
from tests.helpers import act, eventually, mails_about, register, send_action, since, state, through_review, today
from workcalendar import WorkCalendar, load_calendar_data

CALENDAR = WorkCalendar(load_calendar_data())


def window_from(day: date) -> date:
    return add_working_days_from(CALENDAR, day, 15)[0]


async def workflow_today(env, client, workflow_id: str) -> date:
    return local_date(await env.get_current_time(client.get_workflow_handle(workflow_id)))


async def staff_answer(api, consultation_id: str, body: dict, user: str = "desk-chen") -> httpx.Response:
    return await api.post(f"/api/v1/consultations/{consultation_id}/answer", json=body, headers=api.as_user(user))


async def record_service(api, consultation_id: str, body: dict, user: str = "desk-chen") -> httpx.Response:
    return await api.post(f"/api/v1/consultations/{consultation_id}/service", json=body, headers=api.as_user(user))


async def served_consultation(api, consultee: dict, **application) -> tuple[str, str]:
    """A registered application and a consultation about its item 1, once served: (application id, consultation id)."""
    app_id = (await register(api, **application))["application_id"]
    started = await act(api, app_id, "consultations", {"consultee": consultee, "item_nos": [1], "by": "wang"})
    cid = consultation(started)["consultation_id"]
    await eventually(api, app_id, lambda s: consultation(s)["served_on"] is not None)
    return app_id, cid


def consultation(view: dict) -> dict:
    return view["consultations"][0]


@pytest.mark.dates
async def test_posted_letter_stops_the_clock_on_dispatch_and_counts_the_window_from_receipt(env, api, client):
    """Point 1: dispatch and receipt dates; provisional window until receipt is known, explained."""
    created = await register(api, items=[{"description": "某公司2025年报送的统计报表"}])
    app_id = created["application_id"]
    started = await act(api, app_id, "consultations", {
        "consultee": {"kind": "third-party", "name": "某科技有限公司", "address": "福州市某路2号"},
        "item_nos": [1], "by": "wang"})
    cid = consultation(started)["consultation_id"]
    # Created, not sent: the clock still runs and staff are asked to record the post.
    assert consultation(started)["sent_on"] is None and started["paused_intervals"] == []
    assert started["due"]["due_on"] == created["due_on"]
    assert "record-consultation-service" in [a["action"] for a in started["pending_actions"]]

    # Registrar: handed to the post today. The clock stops; the window is provisional, from dispatch.
    dispatched = today()
    posted = await record_service(api, cid, {"dispatched_on": dispatched.isoformat(), "evidence": "挂号信 XA123456789CN"})
    assert posted.status_code == 200, posted.text
    assert posted.json()["window_provisional"] is True and posted.json()["served_on"] is None
    view = await eventually(api, app_id, lambda s: consultation(s)["sent_on"] is not None)
    assert consultation(view)["window_provisional"] is True
    assert consultation(view)["window_ends_on"] == window_from(dispatched).isoformat()
    assert "尚无送达证据" in consultation(view)["window_basis"] and "暂按发出之日推算" in consultation(view)["window_basis"]
    assert view["paused_intervals"][0]["started_on"] == dispatched.isoformat()
    assert view["due"]["projected"] is True
    assert "consultation-dispatched" in [e["kind"] for e in view["timeline"]]

    # A receipt date before the dispatch, or in the future, is refused.
    early = await record_service(api, cid, {"served_on": (dispatched - timedelta(days=1)).isoformat()})
    assert early.status_code == 409, early.text
    future = await record_service(api, cid, {"served_on": (dispatched + timedelta(days=40)).isoformat()})
    assert future.status_code == 409, future.text

    # Signed for three days later: the window counts from that day, and is no longer provisional.
    await env.fast_forward(client.get_workflow_handle(cid), timedelta(days=3))
    served = await workflow_today(env, client, cid)
    assert served > dispatched
    signed = await record_service(api, cid, {"served_on": served.isoformat(), "evidence": "邮政签收单"})
    assert signed.status_code == 200, signed.text
    assert signed.json()["window_ends_on"] == window_from(served).isoformat()
    view = await eventually(api, app_id, lambda s: consultation(s)["served_on"] == served.isoformat())
    c = consultation(view)
    assert c["window_provisional"] is False and c["window_ends_on"] == window_from(served).isoformat()
    assert f"{served} 送达" in c["window_basis"] and "邮政签收单" in c["window_basis"]
    # The clock stopped on dispatch, not on receipt.
    assert view["paused_intervals"][0]["started_on"] == dispatched.isoformat()
    assert view["paused_intervals"][0]["expected_end_on"] == window_from(served).isoformat()


@pytest.mark.dates
async def test_an_answer_counts_by_its_receipt_date_even_when_entered_after_the_window(env, api, client, mailbox):
    """Point 2: a paper objection that arrived on the last day, entered after the window was closed as silence."""
    app_id = (await register(api, items=[{"description": "某企业2025年统计执法检查中提交的财务报表"}]))["application_id"]
    started = await act(api, app_id, "consultations", {
        "consultee": {"kind": "third-party", "name": "某某有限公司", "email": "legal@late.example.cn"},
        "item_nos": [1], "by": "wang"})
    cid = consultation(started)["consultation_id"]
    # E-mail: our relay's acceptance is dispatch; the consultee's mail system's delivery report is receipt.
    view = await eventually(api, app_id, lambda s: consultation(s)["served_on"] is not None)
    c = consultation(view)
    assert c["sent_on"] == c["served_on"] and "送达状态通知" in c["service_evidence"]
    window_ends_on = date.fromisoformat(c["window_ends_on"])
    assert window_ends_on == window_from(date.fromisoformat(c["served_on"]))
    letter = [m for m in mails_about(mailbox.envelopes, app_id) if "征询" in m["Subject"]][0]
    assert "请自收到本函之日起15个工作日内书面提出是否同意公开的意见" in letter.get_body(("plain",)).get_content()

    # Nobody answered in time: silence.
    await env.fast_forward(client.get_workflow_handle(cid), timedelta(days=30))
    silent = await eventually(api, app_id, lambda s: consultation(s)["position"] == "silence")
    assert silent["paused_intervals"][0]["ended_on"] == window_ends_on.isoformat()

    # The objection arrived by post on the window's last day; the registrar enters it weeks later.
    await env.fast_forward(client.get_workflow_handle(app_id), timedelta(days=30))
    too_late = await staff_answer(api, cid, {"position": "objection", "reasons": "涉及商业秘密",
                                             "received_on": (window_ends_on + timedelta(days=1)).isoformat()})
    assert too_late.status_code == 409 and "已超过提出意见的期限" in too_late.json()["detail"], too_late.text
    entered = await staff_answer(api, cid, {"position": "objection", "reasons": "涉及本公司商业秘密",
                                            "received_on": window_ends_on.isoformat(), "evidence": "挂号信签收单"})
    assert entered.status_code == 200, entered.text
    after = await state(api, app_id)
    c = consultation(after)
    assert c["position"] == "objection" and c["answer_received_on"] == window_ends_on.isoformat()
    assert c["answer_entered_by"] == "desk-chen" and c["answer_evidence"] == "挂号信签收单"
    assert after["items"][0]["objection_from"] == [cid]
    assert "consultation-answer-entered-late" in [e["kind"] for e in after["timeline"]]
    # The objection now protects the information: it cannot be proposed for disclosure.
    refused = await send_action(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"})
    assert refused.status_code == 409 and "不予公开-4" in refused.json()["detail"]
    twice = await staff_answer(api, cid, {"position": "consent", "received_on": window_ends_on.isoformat()})
    assert twice.status_code == 409


@pytest.mark.dates
async def test_a_third_party_cannot_date_its_own_answer(api, anon):
    """Point 2: the link's answer counts from the day it arrives; a date in the body is refused."""
    settings = api.app.state.settings
    app_id = (await register(api))["application_id"]
    started = await act(api, app_id, "consultations", {
        "consultee": {"kind": "third-party", "name": "某公司", "email": "x@own-date.example.cn"}, "item_nos": [1], "by": "wang"})
    cid = consultation(started)["consultation_id"]
    token = third_party_token(cid, settings=settings)
    for field in ("received_on", "answered_on"):
        dated = await anon.post(f"/api/v1/third-party/{token}",
                                json={"position": "consent", field: (today() - timedelta(days=1)).isoformat()})
        assert dated.status_code == 422, dated.text
    first = today()
    answered = await anon.post(f"/api/v1/third-party/{token}", json={"position": "consent"})
    assert answered.status_code == 200, answered.text
    view = await eventually(api, app_id, lambda s: consultation(s)["position"] == "consent")
    assert consultation(view)["answer_received_on"] in since(first)  # the day it arrived, on the server
    assert consultation(view)["answer_entered_by"] is None
    assert "通过在线链接提交" in [e for e in view["timeline"] if e["kind"] == "consultation-answered"][0]["summary"]


@pytest.mark.dates
async def test_a_terminated_consultation_is_shown_and_can_be_restarted(api, client, engine, mailbox):
    """Point 2: the application never waits forever on a consultation that ended abnormally."""
    first = today()
    app_id, cid = await served_consultation(
        api, {"kind": "agency", "name": "市发展和改革委员会", "email": "fgw@restart.example.cn"})
    refused = await send_action(api, app_id, "consultation-restart", {"consultation_id": cid, "by": "wang"})
    assert refused.status_code == 409 and "运行正常" in refused.json()["detail"]

    await client.get_workflow_handle(cid).terminate("操作失误")
    failed = await eventually(api, app_id, lambda s: consultation(s)["child_status"] == "failed")
    assert "restart-consultation" in [a["action"] for a in failed["pending_actions"]]
    assert "consultation-failed" in [e["kind"] for e in failed["timeline"]]
    # The alert is written just after the state shows the failure: wait for it (bounded).
    for _ in range(100):
        with Session(engine) as session:
            alerts = session.exec(select(StaffAlert).where(StaffAlert.application_id == app_id)).all()
        if ("consultation-failed", "handler") in {(a.kind, a.role) for a in alerts}:
            break
        await asyncio.sleep(0.2)
    assert ("consultation-failed", "handler") in {(a.kind, a.role) for a in alerts}

    restarted = await act(api, app_id, "consultation-restart", {"consultation_id": cid, "by": "wang"})
    assert consultation(restarted)["child_status"] == "running" and consultation(restarted)["restarts"] == 1
    answered = await staff_answer(api, cid, {"position": "consent"})
    assert answered.status_code == 200, answered.text
    done = await eventually(api, app_id, lambda s: consultation(s)["position"] == "consent")
    assert done["status"] == "handling"
    # The letter went out once: a restart does not send it again.
    to_agency = [e for e in mailbox.envelopes if "fgw@restart.example.cn" in e.rcpt_tos]
    assert len(to_agency) == 1
    # And the application goes on to its reply (issue 12 point 2: it never waits forever).
    await through_review(api, app_id, {1: ("disclosed", "")})
    await act(api, app_id, "sign", {"by": "chief-liu"})
    replied = await eventually(api, app_id, lambda s: s["status"] == "closed", timeout=40)
    # Emailed: delivered the day the mail server accepted it, which is the reply's day.
    assert replied["delivered_on"] == replied["replied_on"] and replied["delivered_on"] in since(first)


@pytest.mark.dates
async def test_a_terminated_consultation_can_be_closed_with_the_answer_the_agency_received(api, client, mailbox):
    """Issue 12 point 2: instead of a restart, staff enter the answer received on paper and the consultation ends."""
    app_id, cid = await served_consultation(
        api, {"kind": "third-party", "name": "某物流有限公司", "email": "legal@closed.example.cn"})
    await client.get_workflow_handle(cid).terminate("操作失误")
    await eventually(api, app_id, lambda s: consultation(s)["child_status"] == "failed")

    undated = await staff_answer(api, cid, {"position": "objection", "reasons": "涉及商业秘密"})
    assert undated.status_code == 409 and "意外终止" in undated.json()["detail"]
    received_on = today().isoformat()
    entered = await staff_answer(api, cid, {"position": "objection", "reasons": "涉及商业秘密",
                                            "received_on": received_on, "evidence": "EMS 签收"})
    assert entered.status_code == 200, entered.text
    closed = await eventually(api, app_id, lambda s: consultation(s)["position"] == "objection")
    assert consultation(closed)["child_status"] == "ended"
    assert consultation(closed)["answer_received_on"] == received_on
    assert "restart-consultation" not in [a["action"] for a in closed["pending_actions"]]
    assert closed["status"] == "handling"
    again = await send_action(api, app_id, "consultation-restart", {"consultation_id": cid, "by": "wang"})
    assert again.status_code == 409, again.text


async def test_override_records_whose_views_were_heard_and_the_notice_says_what_and_why(api, mailbox):
    """Point 4 (seed 002 art. 18): the views heard are recorded; the third party is told what is disclosed and why."""
    app_id, cid = await served_consultation(
        api, {"kind": "third-party", "name": "某化工有限公司", "email": "ehs@heard.example.cn"},
        items=[{"description": "某化工企业2025年排污监测数据"}])
    assert (await staff_answer(api, cid, {"position": "objection", "reasons": "涉及生产工艺"})).status_code == 200
    await eventually(api, app_id, lambda s: s["status"] == "handling")
    overridden = await act(api, app_id, "override", {
        "consultation_id": cid, "reason": "涉及周边居民健康，不公开会对公共利益造成重大影响",
        "heard": [{"party": "applicant", "name": "张三", "summary": "申请人说明用于了解周边环境风险"}], "by": "chief-liu"})
    assert consultation(overridden)["override_heard"] == [
        "第三方「某化工有限公司」：涉及生产工艺", "申请人「张三」：申请人说明用于了解周边环境风险"]
    # The acknowledgment and the decision notice are the application's own letters.
    await eventually(api, app_id, lambda s: sum(e["kind"] == "letter-sent" for e in s["timeline"]) >= 2)
    to_third_party = [e for e in mailbox.envelopes if "ehs@heard.example.cn" in e.rcpt_tos]
    texts = [m.get_body(("plain",)).get_content() for m in mails_about(to_third_party, app_id)]
    decided = [t for t in texts if "政府信息公开决定告知书" in t]
    assert len(decided) == 1
    assert "决定公开的内容：\n1. 某化工企业2025年排污监测数据" in decided[0]
    assert "理由：涉及周边居民健康，不公开会对公共利益造成重大影响" in decided[0]
    assert ("本机关作出决定前听取了以下意见：\n1. 第三方「某化工有限公司」：涉及生产工艺\n"
            "2. 申请人「张三」：申请人说明用于了解周边环境风险") in decided[0]


async def test_staff_can_record_the_post_in_the_consultations_very_first_workflow_task(env, client, settings, worker):
    """Seen on CI: staff recorded the post right after starting a consultation; the child had not run its first
    workflow task, so the update's validator ran before `run()` and refused it as an old-style consultation
    ("按原办法办理…无需登记送达"). Update-with-start delivers the update in that first task, every time: the
    validator must already apply the from-receipt rules. (It is asked without a date, so the answer does not
    depend on the day the server's clock shows in that first task, before a pinned session's fast-forward.)"""
    from temporalio.client import WithStartWorkflowOperation, WorkflowUpdateFailedError
    from temporalio.common import WorkflowIDConflictPolicy

    from workflows.consultation import ConsultationWorkflow
    from contracts.consultations import ConsultationInput, Consultee, RecordService

    cid = f"race-{uuid.uuid4()}.consult-1"
    start = WithStartWorkflowOperation(
        ConsultationWorkflow.run,
        ConsultationInput(
            application_id=cid.split(".")[0], consultation_id=cid,
            consultee=Consultee(kind="third-party", name="某科技有限公司", address="福州市某路2号"),
            items=[(1, "某公司2025年报送的统计报表")], agency_name="某市统计局", received_on=today(),
            calendar=load_calendar_data()),
        id=cid, task_queue=settings.task_queue, id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
    try:
        try:
            await client.execute_update_with_start_workflow(
                ConsultationWorkflow.record_service, RecordService(evidence="挂号信 XA123456789CN", by="desk-chen"),
                start_workflow_operation=start)
            raise AssertionError("a service record without any date was accepted")
        except WorkflowUpdateFailedError as refused:
            assert "请填写寄出日期、送达日期" in str(refused.cause), refused.cause
        # The consultation counts from receipt: staff are asked for the post, nothing is dispatched yet.
        view = await (await start.workflow_handle()).query(ConsultationWorkflow.view)
        assert view.sent_on is None and view.window_ends_on is None
    finally:
        await (await start.workflow_handle()).terminate("test over")


@pytest.mark.dates
async def test_a_co_producing_agency_gets_its_reg_34_letter_and_a_third_party_keeps_reg_32(env, api, client, mailbox):
    """Point 3 on the real server: each consultee receives its own letter, checked word for word (mail and PDF);
    the agency's silence within its 15 working days counts as consent (Reg. 34), and is shown so."""
    from tests.letters_support import pdf_attachments, require_pdf_tools

    require_pdf_tools()
    app_id = (await register(api, items=[{"description": "某公司2025年报送的统计报表"},
                                         {"description": "2025年全市工业经济运行联合分析报告"}]))["application_id"]
    third = await act(api, app_id, "consultations", {
        "consultee": {"kind": "third-party", "name": "某科技有限公司", "email": "legal@reg32.example.cn"},
        "item_nos": [1], "by": "wang"})
    agency = await act(api, app_id, "consultations", {
        "consultee": {"kind": "agency", "name": "市发展和改革委员会", "email": "fgw@reg34.example.cn"},
        "item_nos": [2], "by": "wang"})
    agency_cid = agency["consultations"][1]["consultation_id"]
    assert third["consultations"][0]["consultation_id"] != agency_cid
    await eventually(api, app_id, lambda s: all(c["served_on"] is not None for c in s["consultations"]))

    def letter_to(address: str):
        mails = [m for m in mails_about([e for e in mailbox.envelopes if address in e.rcpt_tos], app_id)]
        assert len(mails) == 1, [m["Subject"] for m in mails]
        return mails[0]

    def letter_paragraphs(mail) -> list[str]:
        """The letter as mailed: after its 文号 line, before the list of attachments."""
        number, *paragraphs, attached = mail.get_body(("plain",)).get_content().split("\n\n")
        assert number.startswith("文号：") and attached.startswith("附件：")
        return paragraphs

    received_on = date.fromisoformat((await state(api, app_id))["received_on"])
    received = "本机关于{}收到政府信息公开申请，申请公开的下列政府信息".format(
        "{0.year}年{0.month}月{0.day}日".format(received_on))
    to_agency = letter_to("fgw@reg34.example.cn")
    assert to_agency["Subject"].startswith(f"政府信息公开征求意见函（{app_id}）")
    paragraphs = letter_paragraphs(to_agency)
    assert paragraphs[0] == "政府信息公开征求意见函" and paragraphs[2] == "市发展和改革委员会："
    assert paragraphs[3] == received + "由本机关与贵机关共同制作："
    assert paragraphs[4] == "1. 2025年全市工业经济运行联合分析报告"
    assert paragraphs[5] == ("根据《中华人民共和国政府信息公开条例》第三十四条的规定，现征求贵机关对公开上述政府信息的意见。"
                             "请贵机关自收到本函之日起15个工作日内书面提出意见；逾期未提出意见的，视为同意公开。")
    agency_text = "\n\n".join(paragraphs)
    assert "第三十二条" not in agency_text and "某公司2025年报送的统计报表" not in agency_text
    (name, pdf), = pdf_attachments(to_agency)
    squashed = "".join(pdf_text(pdf).split())
    assert "".join(paragraphs[5].split()) in squashed and "2025年全市工业经济运行联合分析报告" in squashed

    to_company = letter_to("legal@reg32.example.cn")
    assert to_company["Subject"].startswith(f"第三方意见征询函（{app_id}）")
    paragraphs = letter_paragraphs(to_company)
    assert paragraphs[3] == received + "可能涉及您（单位）的商业秘密、个人隐私等合法权益："
    assert paragraphs[4] == "1. 某公司2025年报送的统计报表"
    assert paragraphs[5] == ("根据《中华人民共和国政府信息公开条例》第三十二条的规定，现书面征求您（单位）的意见。"
                             "请自收到本函之日起15个工作日内书面提出是否同意公开的意见；不同意公开的，请说明理由。")
    assert paragraphs[6] == "逾期未提出意见的，由本机关依照《中华人民共和国政府信息公开条例》的规定决定是否公开。"
    company_text = "\n\n".join(paragraphs)
    assert "视为同意" not in company_text and "第三十四条" not in company_text
    assert "2025年全市工业经济运行联合分析报告" not in company_text

    # The agency said nothing within its window: that is its consent, and the timeline says so.
    await env.fast_forward(client.get_workflow_handle(agency_cid), timedelta(days=30))
    silent = await eventually(api, app_id, lambda s: s["consultations"][1]["position"] == "silence")
    assert any(e["summary"].startswith("「市发展和改革委员会」逾期未提出意见，视为同意；答复期限恢复计算")
               for e in silent["timeline"] if e["kind"] == "consultation-answered")
    assert silent["items"][1]["objection_from"] == []
