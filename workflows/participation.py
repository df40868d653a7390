"""Public participation as a workflow (RULES §13; issue 26): a draft published for comment, from
registration to the published 意见收集和采纳情况 (在线咨询: workflows/inquiry.py).

Orchestration only: the periods come from the pure rules in `participation/`; each deadline is one
re-armed timer on an absolute instant (workflows/deadline_loop.py); human steps are Updates whose
validators refuse, before anything is written to history, what the rules forbid.
"""


from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.participation import ParticipationActivities
    from clock import local_date
    from contracts.participation import (
        AlertRecord, ApproveDraft, AttachBasisFile, BasisFile, Comment, CommentIn, CommentReceipt, CommentRecord, Counts, DraftInput, DraftQuery,
        DraftRecord, DraftRows, DraftState, DraftView, HistoryEntry, LinkDecision, Meeting, Moderate, RecordFeedback, ReviewDraft,
        ReviewFeedback, ReviseDraft, WithdrawDraft,
    )
    from participation.rules import CHANNEL_LABELS, DECISION_LABELS, KIND_LABELS, comment_period, feedback_due, why_not_period
    from workcalendar import WorkCalendar
    from workflows.deadline_loop import (Pending, StaffProcess, prescreened, recounted, refuse, save,
                                         why_not_review, why_not_url)
    from contracts.calendar import CalendarYearPublished

FINISHED = ("feedback-published", "withdrawn")
INVITEES = {"stakeholders": "利益相关方", "public-representatives": "公众代表", "experts": "专家", "media": "媒体"}


@workflow.defn(name="DraftForCommentWorkflow")
class DraftForCommentWorkflow(StaffProcess):
    """One draft (决策草案 and its basis) published for comment: confidentiality review, the supervisor's
    approval (published at once, the period counted from that day), comments, closing at the deadline,
    feedback grouped and reviewed, then the 意见收集和采纳情况 published (seed 001)."""

    Entry, Alert = HistoryEntry, AlertRecord

    @workflow.init
    def __init__(self, inp: DraftInput) -> None:
        self._inp = inp
        self._calendar_data = inp.calendar
        self._cal = WorkCalendar(inp.calendar)
        self._content, self._basis = inp.content, inp.basis
        self._basis_files: list[BasisFile] = []
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
        self._changed: list[str] = []  # receipt numbers whose rows the next persist writes
        self._begin(inp.draft_id, "registered", inp.created_by, f"登记征求意见稿（{KIND_LABELS[inp.kind]}）：{inp.title}")
        self._runs = 1
        if inp.carried is not None:  # a continued run: the state the previous run carried over
            for name in DraftState.model_fields:
                setattr(self, f"_{name}", getattr(inp.carried, name))
            self._runs += 1

    @workflow.run
    async def run(self, inp: DraftInput) -> DraftView:
        if inp.carried is None:
            await self._persist()
        # Open until withdrawn or until the decision it led to is linked: after the feedback is published,
        # meetings are still recorded and the decision (with its interpretation) is linked to it.
        await self._deadline_loop(lambda: self._open() and not self._history_full())
        if self._open():  # very many comments: the history stays bounded, every comment and the deadline carried
            workflow.continue_as_new(inp.model_copy(update={"calendar": self._calendar_data, "carried": DraftState(
                **{name: getattr(self, f"_{name}") for name in DraftState.model_fields})}))
        return self.view()

    def _open(self) -> bool:
        return self._phase != "withdrawn" and self._decision_item_id is None

    def _history_full(self) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() >= self._inp.continue_after

    # --- the one timer: closing, then the feedback's reminder and escalation ------------------------

    def _next_alert(self) -> Pending[str] | None:
        if self._phase == "open" and self._period is not None:
            return Pending(self._period.due_at, "close")
        if self._phase in ("closed", "feedback-review") and self._feedback_period is not None:
            return self._remind_then_escalate(self._feedback_period.remind_at, self._feedback_period.due_at, "feedback")
        return None

    async def _fire(self, what: str) -> None:
        if what == "close":
            await self._close()
            return
        due, title, section = self._feedback_period.due_on.isoformat(), self._inp.title, self._inp.section
        await self._remind_or_escalate(
            f"{self._inp.draft_id}:feedback", self._inp.supervisor_email,
            remind=f"征求意见稿「{title}」的意见收集和采纳情况应于 {due} 前公布，尚未公布，请{section}抓紧办理",
            escalate=f"征求意见稿「{title}」的意见收集和采纳情况公布期限已于 {due} 届满仍未公布（{section}负责），请督办")

    async def _close(self) -> None:
        self._phase = "closed"
        self._feedback_period = feedback_due(self._period.due_on, self._inp.feedback_days)
        on_time = sum(1 for c in self._comments if not c.late)
        self._record("closed", "system", f"征求意见期限届满，意见征集截止（收到意见 {on_time} 条）")
        message = (f"征求意见稿「{self._inp.title}」意见征集已于 {self._period.due_on.isoformat()} 截止，"
                   f"请汇总意见，于 {self._feedback_period.due_on.isoformat()} 前公布意见收集和采纳情况")
        await self._alert("reminder", "handler", None, message, key=f"{self._inp.draft_id}:closed")

    @workflow.signal
    async def calendar_published(self, fact: CalendarYearPublished) -> None:
        """A calendar year was published (workflows/proactive_calendar.py): the calendar is kept for the period
        counted at publication; an open 行政规范性文件's working-day period is recounted on it, the move recorded
        with its reason and the one timer re-armed. A period already closed keeps the day it closed on."""
        data = self._take_calendar(fact)
        if data is None:
            return
        self._cal = WorkCalendar(data)
        if self._phase != "open" or self._inp.kind != "normative-document":
            return
        after = comment_period(self._cal, self._inp.kind, self._period.start_on, self._inp.days, self._inp.short_reason)
        self._period, entries = recounted("征求意见截止日期", self._period, after, self._moves, fact, data.version)
        await self._recount_recorded(entries)

    # --- before publication ------------------------------------------------------------------------

    @workflow.update
    async def review(self, cmd: ReviewDraft) -> DraftView:
        self._refuse_review(cmd)
        await self._confidentiality_review(cmd, "reviewed")
        return self.view()

    @review.validator
    def _refuse_review(self, cmd: ReviewDraft) -> None:
        refuse(why_not_review(cmd, self._last_editor, own="起草或修改征求意见稿的人员不能审查自己的稿件",
                              nothing=None if self._phase == "in-review" else "该征求意见稿当前没有待保密审查的稿件"))

    @workflow.update
    async def attach_basis(self, cmd: AttachBasisFile) -> DraftView:
        """A basis file (起草说明 etc.) attached through the release review: a draft already reviewed goes back
        to the confidentiality review; the same file again changes nothing."""
        self._refuse_attach(cmd)
        if all(f.file_id != cmd.file.file_id for f in self._basis_files):
            self._basis_files.append(cmd.file)
            self._last_editor, self._phase = cmd.file.by, "in-review"
            self._record("basis-file", cmd.file.by, f"附上决策依据文件“{cmd.file.filename}”，送保密审查")
            await self._persist()
        return self.view()

    @attach_basis.validator
    def _refuse_attach(self, cmd: AttachBasisFile) -> None:
        if self._phase not in ("in-review", "returned", "reviewed"):
            refuse("征求意见稿已公布，不能再附上决策依据文件")

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
        if unreviewed := [f.filename for f in self._basis_files if f.file_id not in cmd.cleared]:
            refuse(f"决策依据文件“{'”“'.join(unreviewed)}”尚未完成保密审查（预审发现须删除或说明理由予以公开），不能公开")
        refuse(why_not_period(self._inp.kind, self._inp.days, self._inp.short_reason))
        refuse(why_not_url(cmd.url))

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
        refuse(why_not_review(cmd, self._feedback_by, own="汇总反馈的人员不能审查自己的反馈",
                              nothing=None if self._phase == "feedback-review" else "没有待审查的意见收集和采纳情况"))

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
            counts=self._counts(), alerts=self._alerts, history=self._history, basis_files=self._basis_files, runs=self._runs,
            prescreen=prescreened(("征求意见稿", self._content), ("决策依据及说明", self._basis)))

    def _public(self) -> dict:
        """What the public page shows: nothing before publication; the feedback only once reviewed."""
        if self._period is None:
            return {}
        public = {"content": self._content, "basis": self._basis, "how_to_comment": self._inp.how_to_comment,
                  "basis_files": [{"file_id": f.file_id, "filename": f.filename} for f in self._basis_files],
                  "channels": list(self._inp.channels), "name_required": self._inp.name_required,
                  "period": self._period.model_dump(mode="json"),
                  "meetings": [m.model_dump(mode="json", exclude={"recorded_by"}) for m in self._meetings],
                  "decision_item_id": self._decision_item_id}
        if self._phase == "feedback-published":
            public["feedback"] = {"note": self._feedback_note,
                                  "groups": [g.model_dump(mode="json") for g in self._groups],
                                  "published_at": self._feedback_published_at.isoformat()}
        return public

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
        await save(ParticipationActivities.save_draft, DraftRows(draft=draft, comments=rows))
        self._changed = []
