"""Public participation as workflows (RULES §13; issue 26): a draft published for comment, from
registration to the published 意见收集和采纳情况, and a 在线咨询 question from receipt to its answer.

Orchestration only: the periods come from the pure rules in `participation/`; each deadline is one
re-armed timer on an absolute instant (workflows/deadline_loop.py); human steps are Updates whose
validators refuse, before anything is written to history, what the rules forbid.
"""


from workflows import policies
from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.participation import ParticipationActivities
    from clock import local_date
    from contracts.models import PrescreenText, StaffAlertInput
    from contracts.participation import (
        AlertRecord, AnswerInquiry, AnswerNotice, ApproveDraft, Comment, CommentIn, CommentReceipt, CommentRecord, ConfirmConversion,
        Counts, DraftInput, DraftQuery, DraftRecord, DraftRows, DraftView, HistoryEntry, InquiryInput, InquiryQuery,
        InquiryRecord, InquiryView, LinkDecision, Meeting, Moderate, ProposeConversion, RecordFeedback, ReviewAnswer,
        ReviewDraft, ReviewFeedback, ReviseDraft, RouteInquiry, WithdrawDraft,
    )
    from screening.prescreen import prescreen_texts
    from participation.rules import email_of
    from participation.rules import CHANNEL_LABELS, DECISION_LABELS, KIND_LABELS, comment_period, feedback_due, inquiry_due, why_not_period
    from workcalendar import WorkCalendar
    from workflows.deadline_loop import (Pending, newer_calendar, raise_staff_alert, recounted, reminder_or_escalation,
                                         run_deadline_loop)
    from contracts.calendar import CalendarYearPublished

ACTIVITY_TIMEOUT = policies.ACTIVITY_TIMEOUT
PERSIST_RETRY = policies.DATABASE
# The answer's e-mail: retried for about a day (a mail server down), then staff are told to reach the asker.
MAIL_RETRY = policies.COURTESY_MAIL
FINISHED = ("feedback-published", "withdrawn")
INVITEES = {"stakeholders": "利益相关方", "public-representatives": "公众代表", "experts": "专家", "media": "媒体"}


def prescreened(*texts: tuple[str, str]):
    """The automatic pre-screen (pure; RULES §14): what the confidentiality reviewer must look at."""
    return prescreen_texts([PrescreenText(label=label, text=text) for label, text in texts],
                           today=local_date(workflow.now()))


def refuse(reason: str | None) -> None:
    if reason:
        raise ApplicationError(reason, type="ActionNotAllowed", non_retryable=True)


@workflow.defn(name="DraftForCommentWorkflow")
class DraftForCommentWorkflow:
    """One draft (决策草案 and its basis) published for comment: confidentiality review, the supervisor's
    approval (published at once, the period counted from that day), comments, closing at the deadline,
    feedback grouped and reviewed, then the 意见收集和采纳情况 published (seed 001)."""

    @workflow.init
    def __init__(self, inp: DraftInput) -> None:
        self._inp = inp
        self._calendar_data = inp.calendar
        self._cal = WorkCalendar(inp.calendar)
        self._moves: list[str] = []  # how published calendar years moved the closing day (explained in its steps)
        self._content, self._basis = inp.content, inp.basis
        self._phase = "in-review"
        self._last_editor = inp.created_by
        self._url: str | None = None
        self._period = None
        self._feedback_period = None
        self._comments: list[Comment] = []
        self._groups = []
        self._feedback_note, self._feedback_by = "", None
        self._feedback_published_at = None
        self._feedback_on_time: bool | None = None
        self._meetings: list[Meeting] = []
        self._decision_item_id: str | None = None
        self._reminded = self._escalated = False
        self._alerts: list[AlertRecord] = []
        self._changed: list[str] = []  # receipt numbers whose rows the next persist writes
        self._history = [HistoryEntry(at=workflow.now(), kind="registered", actor=inp.created_by,
                                      summary=f"登记征求意见稿（{KIND_LABELS[inp.kind]}）：{inp.title}")]
        self._changes = 0

    @workflow.run
    async def run(self, inp: DraftInput) -> DraftView:
        await self._persist()
        # Open until withdrawn or until the decision it led to is linked: after the feedback is published,
        # meetings are still recorded and the decision (with its interpretation) is linked to it.
        await run_deadline_loop(open_=lambda: self._phase != "withdrawn" and self._decision_item_id is None,
                                changes=lambda: self._changes,
                                next_alert=self._next_alert, fire=self._fire)
        return self.view()

    # --- the one timer: closing, then the feedback's reminder and escalation ------------------------

    def _next_alert(self) -> Pending[str] | None:
        if self._phase == "open" and self._period is not None:
            return Pending(self._period.due_at, "close")
        if self._phase in ("closed", "feedback-review") and self._feedback_period is not None:
            if not self._reminded:
                return Pending(self._feedback_period.remind_at, "feedback")
            if not self._escalated:
                return Pending(self._feedback_period.due_at, "feedback")
        return None

    async def _fire(self, what: str) -> None:
        if what == "close":
            await self._close()
            return
        due = self._feedback_period.due_on.isoformat()
        kind, role, recipient = reminder_or_escalation(self._reminded, self._inp.supervisor_email)
        if not self._reminded:
            self._reminded = True
            message = f"征求意见稿「{self._inp.title}」的意见收集和采纳情况应于 {due} 前公布，尚未公布，请{self._inp.section}抓紧办理"
        else:
            self._escalated = True
            message = f"征求意见稿「{self._inp.title}」的意见收集和采纳情况公布期限已于 {due} 届满仍未公布（{self._inp.section}负责），请督办"
        await self._alert(kind, role, recipient, message, key=f"{self._inp.draft_id}:feedback:{kind}")

    async def _close(self) -> None:
        self._phase = "closed"
        self._feedback_period = feedback_due(self._period.due_on, self._inp.feedback_days)
        on_time = sum(1 for c in self._comments if not c.late)
        self._record("closed", "system", f"征求意见期限届满，意见征集截止（收到意见 {on_time} 条）")
        message = (f"征求意见稿「{self._inp.title}」意见征集已于 {self._period.due_on.isoformat()} 截止，"
                   f"请汇总意见，于 {self._feedback_period.due_on.isoformat()} 前公布意见收集和采纳情况")
        await self._alert("reminder", "handler", None, message, key=f"{self._inp.draft_id}:closed")

    async def _alert(self, kind: str, role: str, recipient: str | None, message: str, *, key: str) -> None:
        self._alerts.append(AlertRecord(at=workflow.now(), kind=kind, role=role, message=message))
        self._record(kind, "system", message)
        await raise_staff_alert(StaffAlertInput(key=key, application_id=self._inp.draft_id, kind=kind, role=role,
                                                recipient=recipient, message=message))
        await self._persist()

    @workflow.signal
    async def calendar_published(self, fact: CalendarYearPublished) -> None:
        """A calendar year was published (workflows/proactive_calendar.py): the calendar is kept for the period
        counted at publication; an open 行政规范性文件's working-day period is recounted on it, the move recorded
        with its reason and the one timer re-armed. A period already closed keeps the day it closed on."""
        data = newer_calendar(self._calendar_data, fact)
        if data is None:
            return
        self._calendar_data, self._cal = data, WorkCalendar(data)
        if self._phase != "open" or self._inp.kind != "normative-document":
            return
        after = comment_period(self._cal, self._inp.kind, self._period.start_on, self._inp.days, self._inp.short_reason)
        self._period, entries = recounted("征求意见截止日期", self._period, after, self._moves, fact, data.version)
        for kind, summary in entries:
            self._record(kind, "system", summary)
        if entries:
            await self._persist()

    # --- before publication ------------------------------------------------------------------------

    @workflow.update
    async def review(self, cmd: ReviewDraft) -> DraftView:
        self._refuse_review(cmd)
        if cmd.approve:
            self._phase = "reviewed"
            self._record("review-approved", cmd.by, "保密审查通过" + (f"：{cmd.comment}" if cmd.comment else ""))
        else:
            self._phase = "returned"
            self._record("review-returned", cmd.by, f"保密审查退回：{cmd.comment}")
        await self._persist()
        return self.view()

    @review.validator
    def _refuse_review(self, cmd: ReviewDraft) -> None:
        if self._phase != "in-review":
            refuse("该征求意见稿当前没有待保密审查的稿件")
        if cmd.by == self._last_editor:
            refuse("起草或修改征求意见稿的人员不能审查自己的稿件（谁签发、谁把关）")
        if not cmd.approve and len(cmd.comment.strip()) < 2:
            refuse("退回须说明理由")

    @workflow.update
    async def revise(self, cmd: ReviseDraft) -> DraftView:
        self._refuse_revise(cmd)
        self._content = cmd.content
        self._basis = cmd.basis or self._basis
        self._last_editor, self._phase = cmd.by, "in-review"
        self._record("revised", cmd.by, "修改征求意见稿，重新送保密审查" + (f"：{cmd.reason}" if cmd.reason else ""))
        await self._persist()
        return self.view()

    @revise.validator
    def _refuse_revise(self, cmd: ReviseDraft) -> None:
        if self._phase not in ("in-review", "returned", "reviewed"):
            refuse("征求意见稿已公布，不能再修改")
        if not cmd.content.strip():
            refuse("请填写修改后的征求意见稿")

    @workflow.update
    async def approve(self, cmd: ApproveDraft) -> DraftView:
        """The supervisor approves: published for comment today; the period counts from today."""
        self._refuse_approve(cmd)
        opens_on = local_date(workflow.now())
        self._period = comment_period(self._cal, self._inp.kind, opens_on, self._inp.days, self._inp.short_reason)
        self._phase, self._url = "open", cmd.url
        self._record("published", cmd.by, f"批准并公开征求意见：{cmd.url}，截止 {self._period.due_on.isoformat()}")
        await self._persist()
        return self.view()

    @approve.validator
    def _refuse_approve(self, cmd: ApproveDraft) -> None:
        if self._phase in ("in-review", "returned"):
            refuse("未经保密审查通过的征求意见稿不能公开（谁签发、谁把关）")
        if self._phase != "reviewed":
            refuse("该征求意见稿已公开征求意见")
        if cmd.by == self._inp.created_by:
            refuse("起草人不能批准自己的征求意见稿")
        refuse(why_not_period(self._inp.kind, self._inp.days, self._inp.short_reason))
        if not (cmd.url.startswith("/") or cmd.url.startswith("https://") or cmd.url.startswith("http://")):
            refuse("公开网址应以 / 或 http(s):// 开头")

    # --- comments ----------------------------------------------------------------------------------

    @workflow.update
    async def comment(self, cmd: CommentIn) -> CommentReceipt:
        self._refuse_comment(cmd)
        today = local_date(workflow.now())
        received_on = cmd.received_on or today
        # Online: late once the period has closed; by letter or at a hearing: by the day it was received.
        late = self._phase != "open" if cmd.received_on is None else received_on > self._period.due_on
        receipt = f"{self._inp.draft_id}-{len(self._comments) + 1:04d}"
        self._comments.append(Comment(receipt_no=receipt, channel=cmd.channel, name=cmd.name or None,
                                      contact=cmd.contact or None, part=cmd.part, text=cmd.text,
                                      received_on=received_on, received_at=workflow.now(), entered_by=cmd.entered_by,
                                      late=late, attachment=cmd.attachment))
        self._changed.append(receipt)
        self._record("comment", cmd.entered_by, f"收到意见 {receipt}（{CHANNEL_LABELS[cmd.channel]}，{received_on.isoformat()}）"
                     + ("，逾期提交" if late else ""))
        await self._persist()
        return CommentReceipt(receipt_no=receipt, received_on=received_on, late=late)

    @comment.validator
    def _refuse_comment(self, cmd: CommentIn) -> None:
        if self._phase in ("in-review", "returned", "reviewed"):
            refuse("该征求意见稿尚未公开征求意见")
        if self._phase in FINISHED:
            refuse("意见征集已结束，意见收集和采纳情况已公布" if self._phase == "feedback-published" else "该征求意见稿已撤回")
        if len(cmd.text.strip()) < 2:
            refuse("请填写意见内容（至少 2 个字）")
        if self._inp.name_required and not (cmd.name or "").strip():
            refuse("本次征求意见要求署名，请填写姓名或者名称")
        if cmd.received_on is not None:
            if cmd.received_on > local_date(workflow.now()):
                refuse("收到意见之日不能晚于今天")
            if cmd.received_on < self._period.start_on:
                refuse(f"收到意见之日不能早于征求意见稿公布之日 {self._period.start_on.isoformat()}")

    @workflow.update
    async def moderate(self, cmd: Moderate) -> DraftView:
        """Staff hide an abusive comment with the reason (or show it again): kept, never deleted."""
        self._refuse_moderate(cmd)
        found = next(c for c in self._comments if c.receipt_no == cmd.receipt_no)
        found.hidden, found.hidden_reason, found.hidden_by = cmd.hide, cmd.reason, cmd.by
        self._changed.append(found.receipt_no)
        self._record("hidden" if cmd.hide else "shown", cmd.by,
                     f"{'隐藏' if cmd.hide else '恢复显示'}意见 {cmd.receipt_no}：{cmd.reason}")
        await self._persist()
        return self.view()

    @moderate.validator
    def _refuse_moderate(self, cmd: Moderate) -> None:
        found = [c for c in self._comments if c.receipt_no == cmd.receipt_no]
        if not found:
            refuse(f"没有回执编号为 {cmd.receipt_no} 的意见")
        if found[0].hidden == cmd.hide:
            refuse("该意见已隐藏" if cmd.hide else "该意见未被隐藏")
        if len(cmd.reason.strip()) < 2:
            refuse("隐藏或恢复意见须说明理由")
        if found[0].group is not None and cmd.hide:
            refuse("该意见已在反馈中作出处理，不能隐藏")

    # --- feedback: 意见收集和采纳情况 ----------------------------------------------------------------

    @workflow.update
    async def feedback(self, cmd: RecordFeedback) -> DraftView:
        self._refuse_feedback(cmd)
        for c in self._comments:
            c.group = None
        for index, group in enumerate(cmd.groups):
            for receipt in group.receipt_nos:
                next(c for c in self._comments if c.receipt_no == receipt).group = index
        self._changed.extend(c.receipt_no for c in self._comments)
        self._groups, self._feedback_note, self._feedback_by = list(cmd.groups), cmd.note, cmd.by
        self._phase = "feedback-review"
        self._record("feedback", cmd.by, f"汇总意见 {len(cmd.groups)} 组，送审查")
        await self._persist()
        return self.view()

    @feedback.validator
    def _refuse_feedback(self, cmd: RecordFeedback) -> None:
        if self._phase in ("open",):
            refuse("意见征集尚未截止，不能汇总反馈")
        if self._phase == "feedback-review":
            refuse("反馈已送审查，请等待审查结果")
        if self._phase != "closed":
            refuse("该征求意见稿当前不能汇总反馈")
        known = {c.receipt_no: c for c in self._comments}
        seen: set[str] = set()
        for n, group in enumerate(cmd.groups, start=1):
            if len(group.summary.strip()) < 2:
                refuse(f"第 {n} 组：请概括该组意见")
            if len(group.reason.strip()) < 2:
                refuse(f"第 {n} 组：请说明{DECISION_LABELS[group.decision]}的理由")
            if not group.receipt_nos:
                refuse(f"第 {n} 组：请列出该组意见的回执编号")
            for receipt in group.receipt_nos:
                if receipt not in known:
                    refuse(f"第 {n} 组：没有回执编号为 {receipt} 的意见")
                if known[receipt].hidden:
                    refuse(f"第 {n} 组：意见 {receipt} 已隐藏，不能纳入反馈")
                if receipt in seen:
                    refuse(f"意见 {receipt} 被列入了不止一组")
                seen.add(receipt)
        missing = [c.receipt_no for c in self._comments if not c.hidden and not c.late and c.receipt_no not in seen]
        if missing:
            refuse(f"以下按期收到的意见尚未作出处理：{'、'.join(missing[:10])}")

    @workflow.update
    async def review_feedback(self, cmd: ReviewFeedback) -> DraftView:
        self._refuse_review_feedback(cmd)
        if cmd.approve:
            self._phase, self._feedback_published_at = "feedback-published", workflow.now()
            self._feedback_on_time = workflow.now() <= self._feedback_period.due_at
            self._record("feedback-published", cmd.by, "审查通过，公布意见收集和采纳情况"
                         + ("" if self._feedback_on_time else "（超过公布期限）"))
        else:
            self._phase = "closed"
            self._record("feedback-returned", cmd.by, f"反馈审查退回：{cmd.comment}")
        self._changed.extend(c.receipt_no for c in self._comments)
        await self._persist()
        return self.view()

    @review_feedback.validator
    def _refuse_review_feedback(self, cmd: ReviewFeedback) -> None:
        if self._phase != "feedback-review":
            refuse("没有待审查的意见收集和采纳情况")
        if cmd.by == self._feedback_by:
            refuse("汇总反馈的人员不能审查自己的反馈（谁签发、谁把关）")
        if not cmd.approve and len(cmd.comment.strip()) < 2:
            refuse("退回须说明理由")

    # --- 列席, the decision, withdrawal ---------------------------------------------------------------

    @workflow.update
    async def meeting(self, cmd: Meeting) -> DraftView:
        self._refuse_meeting(cmd)
        self._meetings.append(cmd)
        invited = "、".join(INVITEES[i] for i in cmd.invited) or "未邀请列席"
        self._record("meeting", cmd.recorded_by, f"记录会议「{cmd.title}」（{cmd.held_on.isoformat()}，邀请：{invited}，"
                     f"{'公开' if cmd.public else '不公开'}）")
        await self._persist()
        return self.view()

    @meeting.validator
    def _refuse_meeting(self, cmd: Meeting) -> None:
        if self._phase == "withdrawn":
            refuse("该征求意见稿已撤回")
        if cmd.held_on > local_date(workflow.now()):
            refuse("会议日期不能晚于今天")
        if len(cmd.title.strip()) < 2:
            refuse("请填写会议名称")

    @workflow.update
    async def link_decision(self, cmd: LinkDecision) -> DraftView:
        self._refuse_link(cmd)
        self._decision_item_id = cmd.decision_item_id
        self._record("decision", cmd.by, f"正式决策文件已公开：{cmd.decision_item_id}（及其解读）")
        await self._persist()
        return self.view()

    @link_decision.validator
    def _refuse_link(self, cmd: LinkDecision) -> None:
        if self._phase != "feedback-published":
            refuse("意见收集和采纳情况公布后，才能关联正式决策文件")

    @workflow.update
    async def withdraw(self, cmd: WithdrawDraft) -> DraftView:
        self._refuse_withdraw(cmd)
        self._phase = "withdrawn"
        self._record("withdrawn", cmd.by, f"撤回：{cmd.reason}")
        await self._persist()
        return self.view()

    @withdraw.validator
    def _refuse_withdraw(self, cmd: WithdrawDraft) -> None:
        if self._phase in FINISHED:
            refuse("该征求意见稿已办结")
        if len(cmd.reason.strip()) < 2:
            refuse("撤回须说明理由")

    # --- views and rows ----------------------------------------------------------------------------

    @workflow.query
    def state(self, _: DraftQuery) -> DraftView:
        return self.view()

    def _decision_of(self, c: Comment) -> str | None:
        return self._groups[c.group].decision if c.group is not None and c.group < len(self._groups) else None

    def _counts(self) -> Counts:
        shown = [c for c in self._comments if not c.hidden]
        decisions = [self._decision_of(c) for c in shown]
        return Counts(received=len(shown), on_time=sum(not c.late for c in shown), late=sum(c.late for c in shown),
                      hidden=len(self._comments) - len(shown), adopted=decisions.count("adopted"),
                      partly=decisions.count("partly"), not_adopted=decisions.count("not-adopted"))

    def view(self) -> DraftView:
        i = self._inp
        return DraftView(
            draft_id=i.draft_id, title=i.title, kind=i.kind, section=i.section, content=self._content,
            basis=self._basis, channels=i.channels, how_to_comment=i.how_to_comment, name_required=i.name_required,
            phase=self._phase, created_by=i.created_by, last_editor=self._last_editor, planned_days=i.days,
            short_reason=i.short_reason, url=self._url, period=self._period, feedback_period=self._feedback_period,
            comments=self._comments, groups=self._groups, feedback_note=self._feedback_note,
            feedback_by=self._feedback_by, feedback_published_at=self._feedback_published_at,
            feedback_on_time=self._feedback_on_time, meetings=self._meetings, decision_item_id=self._decision_item_id,
            counts=self._counts(), alerts=self._alerts, history=self._history,
            prescreen=prescreened(("征求意见稿", self._content), ("决策依据及说明", self._basis)))

    def _public(self) -> dict:
        """What the public page shows: nothing before publication; the feedback only once reviewed."""
        if self._period is None:
            return {}
        public = {"content": self._content, "basis": self._basis, "how_to_comment": self._inp.how_to_comment,
                  "channels": list(self._inp.channels), "name_required": self._inp.name_required,
                  "period": self._period.model_dump(mode="json"),
                  "meetings": [m.model_dump(mode="json", exclude={"recorded_by"}) for m in self._meetings],
                  "decision_item_id": self._decision_item_id}
        if self._phase == "feedback-published":
            public["feedback"] = {"note": self._feedback_note,
                                  "groups": [g.model_dump(mode="json") for g in self._groups],
                                  "published_at": self._feedback_published_at.isoformat()}
        return public

    def _record(self, kind: str, actor: str, summary: str) -> None:
        self._changes += 1
        self._history.append(HistoryEntry(at=workflow.now(), kind=kind, actor=actor, summary=summary))

    async def _persist(self) -> None:
        i = self._inp
        fb = self._feedback_period
        draft = DraftRecord(
            id=i.draft_id, title=i.title, kind=i.kind, section=i.section, phase=self._phase,
            opens_on=self._period.start_on if self._period else None,
            closes_at=self._period.due_at if self._period else None, feedback_due_at=fb.due_at if fb else None,
            feedback_published_at=self._feedback_published_at, feedback_on_time=self._feedback_on_time, url=self._url,
            public=self._public(), counts=self._counts().model_dump(), created_by=i.created_by)
        changed = [c for c in self._comments if c.receipt_no in set(self._changed)]
        rows = [CommentRecord(receipt_no=c.receipt_no, draft_id=i.draft_id, channel=c.channel, name=c.name,
                              contact=c.contact, part=c.part, text=c.text, received_on=c.received_on,
                              received_at=c.received_at, entered_by=c.entered_by, late=c.late, hidden=c.hidden,
                              hidden_reason=c.hidden_reason, hidden_by=c.hidden_by,
                              decision=self._decision_of(c) if self._phase == "feedback-published" else None,
                              attachment=c.attachment.model_dump() if c.attachment else None)
                for c in changed]
        await workflow.execute_activity_method(ParticipationActivities.save_draft, DraftRows(draft=draft, comments=rows),
                                               start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PERSIST_RETRY)
        self._changed = []


@workflow.defn(name="InquiryWorkflow")
class InquiryWorkflow:
    """A 在线咨询 question: routed to a 科室, answered and reviewed within the agency's period (working days),
    reminded and escalated like an application; published with the asker's consent when of general
    interest; or turned into a disclosure application once the asker confirms."""

    @workflow.init
    def __init__(self, inp: InquiryInput) -> None:
        self._inp = inp
        self._calendar_data = inp.calendar
        self._period = inquiry_due(WorkCalendar(inp.calendar), inp.received_on, inp.answer_days)
        self._moves: list[str] = []
        self._status = "unrouted"
        self._section: str | None = None
        self._answer: str | None = None
        self._answered_by: str | None = None
        self._answered_at = None
        self._general = False
        self._conversion_reason: str | None = None
        self._application_id: str | None = None
        self._application_received_on = None
        self._reminded = self._escalated = False
        self._alerts: list[AlertRecord] = []
        self._history = [HistoryEntry(at=workflow.now(), kind="received", actor=inp.registered_by,
                                      summary="收到咨询" + ("（同意公开答复）" if inp.consent_publish else ""))]
        self._changes = 0

    @workflow.run
    async def run(self, inp: InquiryInput) -> InquiryView:
        await self._persist()
        await run_deadline_loop(open_=lambda: self._status not in ("answered", "converted"),
                                changes=lambda: self._changes, next_alert=self._next_alert, fire=self._fire)
        if self._status == "answered":  # after the reviewer's update has returned: the e-mail may take retries
            await self._send_answer()
            await self._persist()
        return self.view()

    def _next_alert(self) -> Pending[None] | None:
        if self._status == "awaiting-confirmation":
            return None  # waiting for the asker: the question is no longer the office's to answer
        if not self._reminded:
            return Pending(self._period.remind_at, None)
        if not self._escalated:
            return Pending(self._period.due_at, None)
        return None

    async def _fire(self, _: None) -> None:
        due = self._period.due_on.isoformat()
        kind, role, recipient = reminder_or_escalation(self._reminded, self._inp.supervisor_email)
        where = self._section or "登记窗口（尚未分办）"
        if not self._reminded:
            self._reminded = True
            message = f"咨询 {self._inp.inquiry_id} 应于 {due} 前答复，尚未答复，请{where}抓紧办理"
        else:
            self._escalated = True
            message = f"咨询 {self._inp.inquiry_id} 答复期限已于 {due} 届满仍未答复（{where}），请督办"
        self._alerts.append(AlertRecord(at=workflow.now(), kind=kind, role=role, message=message))
        self._record(kind, "system", message)
        await raise_staff_alert(StaffAlertInput(key=f"{self._inp.inquiry_id}:{kind}", application_id=self._inp.inquiry_id,
                                                kind=kind, role=role, recipient=recipient, message=message))
        await self._persist()

    @workflow.signal
    async def calendar_published(self, fact: CalendarYearPublished) -> None:
        """A calendar year was published: an unanswered question's period is recounted on it, the move recorded
        with its reason and the one timer re-armed (the reminder's instant moves with it)."""
        data = newer_calendar(self._calendar_data, fact)
        if data is None:
            return
        self._calendar_data = data
        if self._status in ("answered", "converted"):
            return
        before = self._period
        after = inquiry_due(WorkCalendar(data), self._inp.received_on, self._inp.answer_days)
        self._period, entries = recounted("答复期限", before, after, self._moves, fact, data.version)
        if self._period.remind_at != before.remind_at:
            self._changes += 1  # the timer is re-armed on the reminder's new instant
        for kind, summary in entries:
            self._record(kind, "system", summary)
        if entries:
            await self._persist()

    @workflow.update
    async def route(self, cmd: RouteInquiry) -> InquiryView:
        self._refuse_route(cmd)
        self._section, self._status = cmd.section, "routed"
        self._record("routed", cmd.by, f"分办至{cmd.section}")
        await self._persist()
        return self.view()

    @route.validator
    def _refuse_route(self, cmd: RouteInquiry) -> None:
        if self._status not in ("unrouted", "routed"):
            refuse(self._why_busy())
        if len(cmd.section.strip()) < 2:
            refuse("请填写承办科室")

    @workflow.update
    async def answer(self, cmd: AnswerInquiry) -> InquiryView:
        self._refuse_answer(cmd)
        self._answer, self._answered_by, self._general = cmd.answer, cmd.by, cmd.general_interest
        self._status = "in-review"
        self._record("answer-drafted", cmd.by, "拟写答复，送审查")
        await self._persist()
        return self.view()

    @answer.validator
    def _refuse_answer(self, cmd: AnswerInquiry) -> None:
        if self._status == "unrouted":
            refuse("请先将咨询分办至承办科室")
        if self._status != "routed":
            refuse(self._why_busy())
        if len(cmd.answer.strip()) < 2:
            refuse("请填写答复内容")

    @workflow.update
    async def review(self, cmd: ReviewAnswer) -> InquiryView:
        self._refuse_review(cmd)
        if cmd.approve:
            self._status, self._answered_at = "answered", workflow.now()
            late = workflow.now() > self._period.due_at
            self._record("answered", cmd.by, "审查通过，答复咨询人" + ("（超过答复期限）" if late else "")
                         + ("；答复具有普遍性，经咨询人同意予以公开" if self._published() else ""))
        else:
            self._status = "routed"
            self._record("answer-returned", cmd.by, f"答复审查退回：{cmd.comment}")
        await self._persist()
        return self.view()

    async def _send_answer(self) -> None:
        """The reviewed answer to the asker's e-mail address; without one (a phone number, or none), staff reach
        the asker, who can also read it with the query code."""
        email = email_of(self._inp.contact)
        if email is None:
            self._record("answer-not-sent", "system", "咨询人未留电子邮箱：答复可凭查询码查看，或由承办科室电话告知")
            return
        try:
            await workflow.execute_activity_method(
                ParticipationActivities.send_inquiry_answer,
                AnswerNotice(inquiry_id=self._inp.inquiry_id, email=email, name=self._inp.name,
                             question=self._inp.question, answer=self._answer or "", agency_name=self._inp.agency_name),
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=MAIL_RETRY)
        except ActivityError:
            self._record("answer-not-sent", "system", "答复邮件未能发送，请承办科室联系咨询人（答复可凭查询码查看）")
            return
        self._record("answer-sent", "system", "答复已发送至咨询人的电子邮箱")

    @review.validator
    def _refuse_review(self, cmd: ReviewAnswer) -> None:
        if self._status != "in-review":
            refuse("没有待审查的答复")
        if cmd.by == self._answered_by:
            refuse("拟写答复的人员不能审查自己的答复（谁签发、谁把关）")
        if not cmd.approve and len(cmd.comment.strip()) < 2:
            refuse("退回须说明理由")

    @workflow.update
    async def propose_conversion(self, cmd: ProposeConversion) -> InquiryView:
        self._refuse_propose(cmd)
        self._status, self._conversion_reason = "awaiting-confirmation", cmd.reason
        self._record("conversion-proposed", cmd.by, f"该咨询实为政府信息公开申请，待咨询人确认后转为申请：{cmd.reason}")
        await self._persist()
        return self.view()

    @propose_conversion.validator
    def _refuse_propose(self, cmd: ProposeConversion) -> None:
        if self._status not in ("unrouted", "routed"):
            refuse(self._why_busy())
        if len(cmd.reason.strip()) < 2:
            refuse("请说明为何转为政府信息公开申请")

    @workflow.update
    async def confirm_conversion(self, cmd: ConfirmConversion) -> InquiryView:
        self._refuse_confirm(cmd)
        self._status = "converted"
        self._application_id, self._application_received_on = cmd.application_id, cmd.received_on
        self._record("converted", "asker", f"咨询人确认，转为政府信息公开申请 {cmd.application_id}"
                     f"（收到申请之日 {cmd.received_on.isoformat()}）")
        await self._persist()
        return self.view()

    @confirm_conversion.validator
    def _refuse_confirm(self, cmd: ConfirmConversion) -> None:
        if self._status != "awaiting-confirmation":
            refuse("该咨询没有待确认的转为申请事项")

    def _why_busy(self) -> str:
        return {"in-review": "答复正在审查中", "answered": "该咨询已答复",
                "awaiting-confirmation": "该咨询正等待咨询人确认是否转为政府信息公开申请",
                "converted": "该咨询已转为政府信息公开申请"}.get(self._status, "当前不能办理")

    def _published(self) -> bool:
        return self._status == "answered" and self._general and self._inp.consent_publish

    @workflow.query
    def state(self, _: InquiryQuery) -> InquiryView:
        return self.view()

    def _on_time(self) -> bool | None:
        return None if self._answered_at is None else self._answered_at <= self._period.due_at

    def _overdue(self) -> bool:
        if self._answered_at is not None:
            return self._answered_at > self._period.due_at
        return self._status != "converted" and workflow.now() > self._period.due_at

    def view(self) -> InquiryView:
        i = self._inp
        return InquiryView(
            inquiry_id=i.inquiry_id, question=i.question, name=i.name, consent_publish=i.consent_publish,
            received_on=i.received_on, period=self._period, status=self._status, section=self._section,
            answer=self._answer, answered_by=self._answered_by, answered_at=self._answered_at, on_time=self._on_time(),
            overdue=self._overdue(), general_interest=self._general, published=self._published(),
            conversion_reason=self._conversion_reason, application_id=self._application_id,
            application_received_on=self._application_received_on, alerts=self._alerts, history=self._history,
            prescreen=prescreened(("答复", self._answer)) if self._answer else [])

    def _record(self, kind: str, actor: str, summary: str) -> None:
        self._changes += 1
        self._history.append(HistoryEntry(at=workflow.now(), kind=kind, actor=actor, summary=summary))

    async def _persist(self) -> None:
        i = self._inp
        record = InquiryRecord(
            id=i.inquiry_id, question=i.question, name=i.name, contact=i.contact, consent_publish=i.consent_publish,
            received_on=i.received_on, due_on=self._period.due_on, status=self._status, section=self._section,
            answer=self._answer if self._status == "answered" else None, answered_at=self._answered_at,
            on_time=self._on_time(), overdue=self._overdue(), published=self._published(),
            application_id=self._application_id, code_hash=i.code_hash)
        await workflow.execute_activity_method(ParticipationActivities.save_inquiry, record,
                                               start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PERSIST_RETRY)
