"""Public participation on the real server (issue 26; RULES §13): a draft published after review, commented
on from the public page and by the desk, moderated, closed at its deadline with late comments marked
(fast-forwarded clock), feedback reviewed and published and counted; a shorter period refused without its
reason; a question answered on time and published with consent, one escalated when overdue, one turned
into a disclosure application once the asker confirmed."""

import asyncio
from datetime import timedelta

from sqlmodel import Session, select

from core import clock
from db.models import StaffAlert
from db.models_participation import Draft, DraftComment, Inquiry
from tests.helpers import view_when, some_identity

DRAFT = {"title": "关于规范统计调查项目管理的规定（征求意见稿）", "kind": "normative-document", "section": "综合统计科",
         "content": "第一条 为规范统计调查项目管理……\n第二条 本规定适用于……", "basis": "依据《统计法》第十二条起草。",
         "days": 7, "channels": ["website", "letter", "hearing"],
         "how_to_comment": "登录本网站提交，或来信寄至某市统计局综合统计科（邮编 100000），信封注明“意见征集”"}


async def _draft_row(engine, draft_id, check, timeout=20.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        with Session(engine) as session:
            row = session.get(Draft, draft_id)
        if row is not None and check(row):
            return row
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{draft_id}: {row}")
        await asyncio.sleep(0.2)


async def _catalogue_row(engine, item_id, check=lambda r: True):
    from tests.test_proactive import _row

    return await _row(engine, item_id, check)


async def catalogue_document(api, engine, title: str) -> str:
    """A document registered in the proactive catalogue (its row written): the decision a draft led to."""
    from tests.test_proactive import _category, _create, _row

    await _category(api)
    item_id = (await _create(api, title=title))["item_id"]
    await _row(engine, item_id, lambda r: True)
    return item_id


async def published_draft(api, engine, **overrides) -> str:
    """A draft registered by the handler, reviewed, approved by the supervisor: open for comment."""
    created = await api.post("/api/v1/drafts", json=DRAFT | overrides, headers=api.as_user("wang"))
    assert created.status_code == 201, created.text
    draft_id = created.json()["draft_id"]
    await view_when(api, f"/api/v1/drafts/{draft_id}")
    early = await api.post(f"/api/v1/drafts/{draft_id}/approve", json={}, headers=api.as_user("chief-liu"))
    assert early.status_code == 409 and "保密审查" in early.json()["detail"]
    reviewed = await api.post(f"/api/v1/drafts/{draft_id}/review", json={"approve": True},
                              headers=api.as_user("reviewer-zhao"))
    assert reviewed.status_code == 200 and reviewed.json()["phase"] == "reviewed", reviewed.text
    approved = await api.post(f"/api/v1/drafts/{draft_id}/approve", json={}, headers=api.as_user("chief-liu"))
    assert approved.status_code == 200, approved.text
    assert approved.json()["phase"] == "open"
    await _draft_row(engine, draft_id, lambda r: r.phase == "open")
    return draft_id


async def test_draft_commented_closed_with_late_comments_and_feedback_published(env, api, anon, client, engine):
    draft_id = await published_draft(api, engine)
    view = (await api.get(f"/api/v1/drafts/{draft_id}")).json()
    period = view["period"]
    assert period["start_on"] == clock.today().isoformat() and period["working_days"] and period["days"] == 7

    # The public page shows how and until when to comment; nobody logs in.
    public = await anon.get(f"/api/v1/public/drafts/{draft_id}")
    assert public.status_code == 200 and public.json()["open_for_comment"]
    assert public.json()["public"]["period"]["due_on"] == period["due_on"]
    assert "意见征集" in public.json()["public"]["how_to_comment"]
    assert draft_id in [d["draft_id"] for d in (await anon.get("/api/v1/public/drafts")).json()]

    online = await anon.post(f"/api/v1/public/drafts/{draft_id}/comments",
                             json={"part": "第二条", "text": "建议明确适用范围是否包括部门统计调查。", "contact": "a@example.com"})
    assert online.status_code == 201, online.text
    assert online.json()["receipt_no"] == f"{draft_id}-0001" and not online.json()["late"]
    abuse = await anon.post(f"/api/v1/public/drafts/{draft_id}/comments", json={"text": "骂人的话骂人的话"})
    assert abuse.status_code == 201
    letter = await api.post(f"/api/v1/drafts/{draft_id}/comments",
                            json={"channel": "letter", "received_on": clock.today().isoformat(), "name": "某企业",
                                  "part": "第一条", "text": "建议减少重复填报。"}, headers=api.as_user("desk-chen"))
    assert letter.status_code == 201 and letter.json()["receipt_no"] == f"{draft_id}-0003"
    future = await api.post(f"/api/v1/drafts/{draft_id}/comments",
                            json={"channel": "letter", "received_on": (clock.today() + timedelta(days=2)).isoformat(),
                                  "text": "明天的信"}, headers=api.as_user("desk-chen"))
    assert future.status_code == 409 and "不能晚于今天" in future.json()["detail"]

    # Moderation: hidden with its reason, kept (never deleted), not on the public page.
    no_reason = await api.post(f"/api/v1/drafts/{draft_id}/moderate", json={"receipt_no": abuse.json()["receipt_no"], "reason": "x"},
                               headers=api.as_user("wang"))
    assert no_reason.status_code == 422
    hidden = await api.post(f"/api/v1/drafts/{draft_id}/moderate",
                            json={"receipt_no": abuse.json()["receipt_no"], "reason": "含有辱骂内容"}, headers=api.as_user("wang"))
    assert hidden.status_code == 200, hidden.text
    assert hidden.json()["counts"]["received"] == 2 and hidden.json()["counts"]["hidden"] == 1
    await _draft_row(engine, draft_id, lambda r: r.counts.get("hidden") == 1)
    with Session(engine) as session:
        kept = session.get(DraftComment, abuse.json()["receipt_no"])
    assert kept.hidden and kept.hidden_reason == "含有辱骂内容" and kept.hidden_by == "wang"
    shown = [c["receipt_no"] for c in (await anon.get(f"/api/v1/public/drafts/{draft_id}")).json()["comments"]]
    assert shown == [f"{draft_id}-0001", f"{draft_id}-0003"]

    # No feedback while the period runs.
    refused = await api.post(f"/api/v1/drafts/{draft_id}/feedback", json={"groups": []}, headers=api.as_user("wang"))
    assert refused.status_code == 409 and "尚未截止" in refused.json()["detail"]

    # The period ends: the one timer closes it and reminds the handler.
    await env.fast_forward(client.get_workflow_handle(draft_id), timedelta(days=20))
    closed = await view_when(api, f"/api/v1/drafts/{draft_id}", lambda v: v["phase"] == "closed")
    assert closed["alerts"][0]["role"] == "handler" and "截止" in closed["alerts"][0]["message"]
    assert closed["feedback_period"]["start_on"] == period["due_on"]
    late = await anon.post(f"/api/v1/public/drafts/{draft_id}/comments", json={"text": "截止后才看到，补充一条意见。"})
    assert late.status_code == 201 and late.json()["late"]
    # A letter received within the period, entered after it closed, is on time.
    posted = await api.post(f"/api/v1/drafts/{draft_id}/comments",
                            json={"channel": "letter", "received_on": period["due_on"], "text": "期限内寄到的信。"},
                            headers=api.as_user("desk-chen"))
    assert posted.status_code == 201 and not posted.json()["late"]

    # Feedback: every on-time comment answered, grouped with the decision and its reason; then reviewed.
    c1, c3, c4, c5 = (f"{draft_id}-000{n}" for n in (1, 3, 4, 5))  # 0002 hidden; 0004 late
    incomplete = await api.post(f"/api/v1/drafts/{draft_id}/feedback", json={"groups": [
        {"summary": "适用范围", "receipt_nos": [c1], "decision": "adopted", "reason": "已在第二条中明确"}]},
        headers=api.as_user("wang"))
    assert incomplete.status_code == 409 and c3 in incomplete.json()["detail"]
    groups = [{"summary": "适用范围", "receipt_nos": [c1], "decision": "adopted", "reason": "已在第二条中明确"},
              {"summary": "减轻填报负担", "receipt_nos": [c3, c5], "decision": "partly", "reason": "合并两张报表，其余保留"},
              {"summary": "逾期意见", "receipt_nos": [c4], "decision": "not-adopted", "reason": "与本规定无关"}]
    recorded = await api.post(f"/api/v1/drafts/{draft_id}/feedback", json={"groups": groups, "note": "共收到意见 4 条"},
                              headers=api.as_user("wang"))
    assert recorded.status_code == 200 and recorded.json()["phase"] == "feedback-review", recorded.text
    assert (await anon.get(f"/api/v1/public/drafts/{draft_id}")).json()["public"].get("feedback") is None
    assert (await api.post(f"/api/v1/drafts/{draft_id}/feedback-review", json={"approve": True},
                           headers=api.as_user("wang"))).status_code == 403
    published = await api.post(f"/api/v1/drafts/{draft_id}/feedback-review", json={"approve": True},
                               headers=api.as_user("reviewer-zhao"))
    assert published.status_code == 200 and published.json()["phase"] == "feedback-published", published.text
    assert published.json()["feedback_on_time"] is True
    assert published.json()["counts"] == {"received": 4, "on_time": 3, "late": 1, "hidden": 1, "adopted": 1,
                                          "partly": 2, "not_adopted": 1}

    row = await _draft_row(engine, draft_id, lambda r: r.phase == "feedback-published")
    page = (await anon.get(f"/api/v1/public/drafts/{draft_id}")).json()
    assert [g["decision"] for g in page["public"]["feedback"]["groups"]] == ["adopted", "partly", "not-adopted"]
    assert {c["receipt_no"]: (c["decision"], c["late"]) for c in page["comments"]}[c4] == ("not-adopted", True)
    assert "contact" not in page["comments"][0] and "name" not in page["comments"][0]
    after = await anon.post(f"/api/v1/public/drafts/{draft_id}/comments", json={"text": "还能提意见吗？"})
    assert after.status_code == 409 and "已公布" in after.json()["detail"]

    # The decision, once made and published with its interpretation, is linked to the draft: the process ends.
    unknown = await api.post(f"/api/v1/drafts/{draft_id}/decision", json={"decision_item_id": "ML-2026-nothing"},
                             headers=api.as_user("wang"))
    assert unknown.status_code == 404
    decision_id = await catalogue_document(api, engine, "关于规范统计调查项目管理的规定")
    linked = await api.post(f"/api/v1/drafts/{draft_id}/decision", json={"decision_item_id": decision_id},
                            headers=api.as_user("wang"))
    assert linked.status_code == 200 and linked.json()["decision_item_id"] == decision_id
    await _draft_row(engine, draft_id, lambda r: r.public.get("decision_item_id") == decision_id)
    # Once the catalogue publishes the decision and its interpretation, the draft's page links to both.
    interpretation = await api.post("/api/v1/interpretations", headers=api.as_user("wang"), json={
        "policy_id": decision_id, "title": "《规定》政策解读", "content": "一、起草背景……"})
    assert interpretation.status_code == 201, interpretation.text
    for item_id in (decision_id, interpretation.json()["item_id"]):
        await _catalogue_row(engine, item_id)
        assert (await api.post(f"/api/v1/catalogue/items/{item_id}/review", json={"approve": True},
                               headers=api.as_user("reviewer-zhao"))).status_code == 200
        assert (await api.post(f"/api/v1/catalogue/items/{item_id}/publish", json={"url": f"/gk/{item_id}.html"},
                               headers=api.as_user("wang"))).status_code == 200
        await _catalogue_row(engine, item_id, lambda r: r.status == "published")
    linked_page = (await anon.get(f"/api/v1/public/drafts/{draft_id}")).json()
    assert linked_page["decision"]["url"] == f"/gk/{decision_id}.html"
    assert [i["title"] for i in linked_page["interpretations"]] == ["《规定》政策解读"]

    # Counted for the annual report and the assessment.
    figures = (await api.get("/api/v1/drafts/figures", params={"year": row.opens_on.year})).json()
    assert figures["drafts_published"] >= 1 and figures["feedback_on_time"] >= 1
    assert figures["comments_received"] >= 4 and figures["comments_adopted"] >= 1 and figures["comments_partly_adopted"] >= 2
    report = (await api.get(f"/api/v1/reports/annual/{row.opens_on.year}", headers=api.as_user("chief-liu"))).json()
    sections = {s["key"]: s["draft_text"] for s in report["sections"]}
    assert f"公开征求意见的决策草案{figures['drafts_published']}件" in sections["overview"]
    assert (f"采纳{figures['comments_adopted']}条、部分采纳{figures['comments_partly_adopted']}条" in sections["proactive"]
            and f"其中按期公布{figures['feedback_on_time']}件" in sections["proactive"])
    sheet = (await api.get(f"/api/v1/reports/assessment/{row.opens_on.year}/sheet", headers=api.as_user("chief-liu"))).json()
    assert sheet["participation"] == {k: v for k, v in figures.items() if k != "year"}


async def test_a_draft_that_requires_a_name_refuses_an_unsigned_comment(api, anon, engine):
    draft_id = await published_draft(api, engine, name_required=True)
    unsigned = await anon.post(f"/api/v1/public/drafts/{draft_id}/comments", json={"text": "没有署名的意见"})
    assert unsigned.status_code == 409 and "署名" in unsigned.json()["detail"]
    signed = await anon.post(f"/api/v1/public/drafts/{draft_id}/comments", json={"name": "李四", "text": "署名的意见"})
    assert signed.status_code == 201 and signed.json()["receipt_no"] == f"{draft_id}-0001"
    assert (await anon.get(f"/api/v1/public/drafts/{draft_id}")).json()["public"]["name_required"] is True


async def test_a_comment_with_an_attachment_kept_for_staff_only(api, anon, engine):
    draft_id = await published_draft(api, engine)
    pdf = b"%PDF-1.4\n% comment attachment\n"
    sent = await anon.post(f"/api/v1/public/drafts/{draft_id}/comments-with-attachment",
                           data={"text": "详见附件中的修改建议。", "part": "第一条"},
                           files={"file": ("修改建议.pdf", pdf, "application/pdf")})
    assert sent.status_code == 201, sent.text
    receipt = sent.json()["receipt_no"]
    wrong = await anon.post(f"/api/v1/public/drafts/{draft_id}/comments-with-attachment", data={"text": "脚本附件"},
                            files={"file": ("x.html", b"<script>alert(1)</script>", "text/html")})
    assert wrong.status_code == 422 and "附件只接受" in wrong.json()["detail"]
    view = (await api.get(f"/api/v1/drafts/{draft_id}")).json()
    assert [c["attachment"]["filename"] for c in view["comments"]] == ["修改建议.pdf"]
    path = f"/api/v1/drafts/{draft_id}/comments/{receipt}/attachment"
    await _draft_row(engine, draft_id, lambda r: r.counts.get("received") == 1)
    for _ in range(50):
        got = await api.get(path)
        if got.status_code == 200:
            break
        await asyncio.sleep(0.2)
    assert got.content == pdf and got.headers["content-type"] == "application/octet-stream"
    assert "attachment" in got.headers["content-disposition"]
    assert (await anon.get(path)).status_code == 401
    public = (await anon.get(f"/api/v1/public/drafts/{draft_id}")).json()
    assert "attachment" not in public["comments"][0]


async def test_the_reviewer_sees_what_the_pre_screen_found_in_the_draft(api):
    created = await api.post("/api/v1/drafts", headers=api.as_user("wang"), json=DRAFT | {
        "basis": "起草说明（机密★1年）。联系人：张某，电话 13912345678。"})
    draft_id = created.json()["draft_id"]
    view = await view_when(api, f"/api/v1/drafts/{draft_id}")
    found = {(f["label"], f["kind"]) for f in view["prescreen"]}
    assert found == {("决策依据及说明", "phone"), ("决策依据及说明", "secret-marking")}
    assert all("13912345678" not in f["excerpt"] for f in view["prescreen"])


async def test_meeting_attendance_is_listed_on_the_drafts_page(api, anon, engine):
    draft_id = await published_draft(api, engine, kind="major-decision", days=30)
    recorded = await api.post(f"/api/v1/drafts/{draft_id}/meetings", json={
        "held_on": clock.today().isoformat(), "title": "局务会议审议", "invited": ["public-representatives", "experts", "media"],
        "attendees": ["市人大代表 张某", "某大学统计学院 李教授", "某日报记者"], "public": True}, headers=api.as_user("wang"))
    assert recorded.status_code == 200, recorded.text
    await _draft_row(engine, draft_id, lambda r: r.public.get("meetings"))
    meetings = (await anon.get(f"/api/v1/public/drafts/{draft_id}")).json()["public"]["meetings"]
    assert meetings[0]["invited"] == ["public-representatives", "experts", "media"] and meetings[0]["public"] is True
    assert "某日报记者" in meetings[0]["attendees"]


async def test_a_shorter_period_is_refused_without_its_reason_and_shown_with_it(api, anon, engine):
    refused = await api.post("/api/v1/drafts", json=DRAFT | {"days": 5}, headers=api.as_user("wang"))
    assert refused.status_code == 422 and "须写明理由" in refused.json()["detail"]
    major = await api.post("/api/v1/drafts", json=DRAFT | {"kind": "major-decision", "days": 20}, headers=api.as_user("wang"))
    assert major.status_code == 422 and "30" in major.json()["detail"]
    draft_id = await published_draft(api, engine, days=5, short_reason="国务院部署年底前完成，时间紧迫")
    public = (await anon.get(f"/api/v1/public/drafts/{draft_id}")).json()["public"]["period"]
    assert public["shortened_reason"] == "国务院部署年底前完成，时间紧迫" and public["days"] == 5


async def test_feedback_not_published_in_time_reminds_then_escalates(env, api, client, engine):
    draft_id = await published_draft(api, engine, kind="major-decision", days=30)
    await env.fast_forward(client.get_workflow_handle(draft_id), timedelta(days=31 + 31))
    view = await view_when(api, f"/api/v1/drafts/{draft_id}", lambda v: len(v["alerts"]) == 3)
    assert [(a["kind"], a["role"]) for a in view["alerts"]] == [("reminder", "handler"), ("reminder", "handler"),
                                                                 ("escalation", "supervisor")]
    assert "意见收集和采纳情况" in view["alerts"][2]["message"]
    with Session(engine) as session:
        kinds = sorted(a.kind for a in session.exec(select(StaffAlert).where(StaffAlert.application_id == draft_id)))
    assert kinds == ["escalation", "reminder", "reminder"]
    # Published late (no comments: nothing to group): recorded as late.
    await api.post(f"/api/v1/drafts/{draft_id}/feedback", json={"groups": [], "note": "未收到意见"}, headers=api.as_user("wang"))
    late = await api.post(f"/api/v1/drafts/{draft_id}/feedback-review", json={"approve": True}, headers=api.as_user("reviewer-zhao"))
    assert late.status_code == 200 and late.json()["feedback_on_time"] is False


# --- 在线咨询 ---------------------------------------------------------------------------------------------


async def _inquiry_row(engine, inquiry_id, check=lambda r: True, timeout=20.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        with Session(engine) as session:
            row = session.get(Inquiry, inquiry_id)
        if row is not None and check(row):
            return row
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{inquiry_id}: {row}")
        await asyncio.sleep(0.2)


async def _ask(anon, **overrides):
    body = {"question": "请问规模以上工业企业的统计标准是什么？", "consent_publish": True} | overrides
    asked = await anon.post("/api/v1/public/inquiries", json=body)
    assert asked.status_code == 201, asked.text
    return asked.json()


async def test_question_routed_answered_on_time_and_published_with_consent(api, anon, engine, mailbox):
    asked = await _ask(anon, contact="asker@participation.example.cn", name="王五")
    inquiry_id, code = asked["inquiry_id"], asked["query_code"]
    view = await view_when(api, f"/api/v1/inquiries/{inquiry_id}")
    assert view["status"] == "unrouted" and view["period"]["days"] == 5 and view["period"]["due_on"] == asked["due_on"]
    early = await api.post(f"/api/v1/inquiries/{inquiry_id}/answer", json={"answer": "年主营业务收入2000万元及以上。"},
                           headers=api.as_user("wang"))
    assert early.status_code == 409 and "分办" in early.json()["detail"]
    routed = await api.post(f"/api/v1/inquiries/{inquiry_id}/route", json={"section": "综合统计科"},
                            headers=api.as_user("desk-chen"))
    assert routed.status_code == 200 and routed.json()["section"] == "综合统计科"
    drafted = await api.post(f"/api/v1/inquiries/{inquiry_id}/answer",
                             json={"answer": "年主营业务收入2000万元及以上的工业法人单位。", "general_interest": True},
                             headers=api.as_user("wang"))
    assert drafted.status_code == 200 and drafted.json()["status"] == "in-review"
    assert (await api.post(f"/api/v1/inquiries/{inquiry_id}/review", json={"approve": True},
                           headers=api.as_user("wang"))).status_code == 403
    answered = await api.post(f"/api/v1/inquiries/{inquiry_id}/review", json={"approve": True},
                              headers=api.as_user("reviewer-zhao"))
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered" and answered.json()["on_time"] and answered.json()["published"]

    async def published():
        for _ in range(100):
            qa = (await anon.get("/api/v1/public/inquiries")).json()
            if inquiry_id in [q["inquiry_id"] for q in qa]:
                return qa
            await asyncio.sleep(0.2)
        raise AssertionError("not published")

    mine = [q for q in await published() if q["inquiry_id"] == inquiry_id][0]
    assert "2000万元" in mine["answer"] and "name" not in mine
    own = await anon.get(f"/api/v1/public/inquiries/{inquiry_id}", headers={"X-Query-Code": code})
    assert own.status_code == 200 and own.json()["status"] == "answered" and "2000万元" in own.json()["answer"]
    wrong = await anon.get(f"/api/v1/public/inquiries/{inquiry_id}", headers={"X-Query-Code": "WRONGCODE"})
    assert wrong.status_code == 404
    # The reviewed answer is e-mailed to the asker, once.
    sent = await view_when(api, f"/api/v1/inquiries/{inquiry_id}", lambda v: v["history"][-1]["kind"] == "answer-sent")
    assert "电子邮箱" in sent["history"][-1]["summary"]
    from tests.helpers import mails_about

    mails = mails_about(mailbox.envelopes, inquiry_id)
    assert len(mails) == 1 and "asker@participation.example.cn" in mails[0]["To"]
    text = mails[0].get_body(("plain",)).get_content()
    assert "年主营业务收入2000万元及以上" in text and "王五" in text
    # Without consent an answer of general interest stays private.
    private = await _ask(anon, consent_publish=False, question="我单位的统计报表是否需要重新报送？")
    await view_when(api, f"/api/v1/inquiries/{private['inquiry_id']}")
    await api.post(f"/api/v1/inquiries/{private['inquiry_id']}/route", json={"section": "综合统计科"}, headers=api.as_user("desk-chen"))
    await api.post(f"/api/v1/inquiries/{private['inquiry_id']}/answer", json={"answer": "不需要。", "general_interest": True},
                   headers=api.as_user("wang"))
    done = await api.post(f"/api/v1/inquiries/{private['inquiry_id']}/review", json={"approve": True},
                          headers=api.as_user("reviewer-zhao"))
    assert done.json()["status"] == "answered" and not done.json()["published"]


async def test_question_not_answered_in_time_reminds_then_escalates(env, api, anon, client, engine):
    asked = await _ask(anon, question="统计执法检查结果在哪里查询？", consent_publish=False)
    inquiry_id = asked["inquiry_id"]
    await view_when(api, f"/api/v1/inquiries/{inquiry_id}")
    await env.fast_forward(client.get_workflow_handle(inquiry_id), timedelta(days=15))
    view = await view_when(api, f"/api/v1/inquiries/{inquiry_id}", lambda v: len(v["alerts"]) == 2)
    assert [(a["kind"], a["role"]) for a in view["alerts"]] == [("reminder", "handler"), ("escalation", "supervisor")]
    assert view["overdue"] and "届满" in view["alerts"][1]["message"]
    with Session(engine) as session:
        alerts = session.exec(select(StaffAlert).where(StaffAlert.application_id == inquiry_id)).all()
        row = session.get(Inquiry, inquiry_id)
    assert sorted(a.kind for a in alerts) == ["escalation", "reminder"] and row.overdue


async def test_question_turned_into_an_application_once_the_asker_confirms(api, anon, engine):
    asked = await _ask(anon, question="请公开本局2025年统计执法检查的全部处罚决定书。", consent_publish=False)
    inquiry_id, code = asked["inquiry_id"], asked["query_code"]
    await _inquiry_row(engine, inquiry_id)  # written in the background
    applicant = {"name": "张三", "email": "zhang@example.com", "id_number": some_identity()}
    unasked = await anon.post(f"/api/v1/public/inquiries/{inquiry_id}/convert",
                              json={"code": code, "applicant": applicant, "delivery_method": "email"})
    assert unasked.status_code == 409
    proposed = await api.post(f"/api/v1/inquiries/{inquiry_id}/propose-conversion",
                              json={"reason": "所需为具体政府信息，应按依申请公开办理"}, headers=api.as_user("wang"))
    assert proposed.status_code == 200 and proposed.json()["status"] == "awaiting-confirmation"
    bad_code = await anon.post(f"/api/v1/public/inquiries/{inquiry_id}/convert",
                               json={"code": "WRONGCODE", "applicant": applicant, "delivery_method": "email"})
    assert bad_code.status_code == 404
    converted = await anon.post(f"/api/v1/public/inquiries/{inquiry_id}/convert",
                                json={"code": code, "applicant": applicant, "delivery_method": "email"})
    assert converted.status_code == 201, converted.text
    application_id = converted.json()["application_id"]
    # Its own receipt date: the day the asker confirmed (not the question's).
    assert converted.json()["received_on"] == clock.today().isoformat() and converted.json()["query_code"]
    view = (await api.get(f"/api/v1/inquiries/{inquiry_id}")).json()
    assert view["status"] == "converted" and view["application_id"] == application_id
    assert view["application_received_on"] == clock.today().isoformat()
    application = await view_when(api, f"/api/v1/applications/{application_id}")
    assert "处罚决定书" in application["items"][0]["description"]
    again = await anon.post(f"/api/v1/public/inquiries/{inquiry_id}/convert",
                            json={"code": code, "applicant": applicant, "delivery_method": "email"})
    assert again.status_code == 409
