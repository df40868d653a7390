"""政务公开 processes as workflows: a catalogue item (or a policy interpretation) from production to
publication, and a public-opinion event's hour clocks (seed 002 arts. 10, 13, 14, 20, 21; seed 001).

Orchestration only: the limits come from the pure rules in `proactive/`; each deadline is one
re-armed timer on an absolute instant (the next reminder or escalation); human steps are Updates
whose validators refuse, before anything is written to history, what the rules forbid.
"""

import hashlib
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.proactive import ProactiveActivities
    from clock import local_date
    from proactive.rules import PLATFORM_LABELS, Deadline, interpretation_due, opinion_limits, publication_due
    from workcalendar import WorkCalendar
    from workflows.deadline_loop import (Pending, StaffProcess, recounted, refuse, save, why_not_review,
                                         why_not_url)
    from contracts.calendar import CalendarYearPublished
    from contracts.proactive import (
        AlertRecord, CatalogueItemInput, CatalogueItemView, CatalogueRecord, ChangeItem, CloseEvent, HistoryEntry,
        ItemQuery, LimitState, OpinionEventInput, OpinionEventView, OpinionRecord, OpinionResponse,
        PublicationEvidence, PublishItem, RecordResponse, ReviewItem, WithdrawItem,
    )


def content_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@workflow.defn(name="CatalogueItemWorkflow")
class CatalogueItemWorkflow(StaffProcess):
    """One item of the proactive catalogue, or one interpretation of a policy document (kind)."""

    Entry, Alert = HistoryEntry, AlertRecord

    @workflow.init
    def __init__(self, inp: CatalogueItemInput) -> None:
        self._inp = inp
        self._calendar_data = inp.calendar
        self._cal = WorkCalendar(inp.calendar)
        self._title, self._content, self._number = inp.title, inp.content, inp.document_number
        self._produced_on = inp.produced_on
        self._phase = "in-review"
        self._version = 1
        self._last_editor = inp.created_by
        self._deadline = self._compute_deadline()
        self._evidence: list[PublicationEvidence] = []
        self._begin(inp.item_id, "entered", inp.created_by,
                    f"信息{'产生' if inp.kind == 'document' else '（解读）'}登记：{inp.title}")
        self._repealed_on = None  # a 规章 or 规范性文件 withdrawn as repealed (废止): table 二

    def _compute_deadline(self) -> Deadline:
        if self._inp.kind == "interpretation":
            return interpretation_due(self._cal, self._produced_on)
        return publication_due(self._cal, self._produced_on, working_days=self._inp.working_days)

    @workflow.run
    async def run(self, inp: CatalogueItemInput) -> CatalogueItemView:
        await self._persist()
        await self._deadline_loop(lambda: self._phase != "withdrawn")
        return self.view()

    def _entry(self, kind: str, actor: str, summary: str) -> HistoryEntry:
        return HistoryEntry(at=workflow.now(), kind=kind, actor=actor, summary=summary, version=self._version)

    def _next_alert(self) -> Pending[None] | None:
        if self._phase in ("published", "withdrawn"):
            return None
        return self._remind_then_escalate(self._deadline.remind_at, self._deadline.due_at)

    async def _fire(self, _: None) -> None:
        what = "解读材料" if self._inp.kind == "interpretation" else "主动公开信息"
        due = self._deadline.due_on.isoformat()
        await self._remind_or_escalate(
            f"{self._inp.item_id}:v{self._version}", self._inp.supervisor_email,
            remind=f"{what}「{self._title}」应于 {due} 前公开，尚未发布，请{self._inp.section}抓紧审查发布",
            escalate=f"{what}「{self._title}」公开期限已于 {due} 届满仍未发布（{self._inp.section}负责），请督办")

    # --- facts ------------------------------------------------------------------------------------

    @workflow.signal
    async def calendar_published(self, fact: CalendarYearPublished) -> None:
        """A calendar year was published (issue 13): an unpublished item's working-day deadline (an
        interpretation's 3 working days, or 20 working days under the agency's setting) is recounted on it,
        the move recorded with its reason and the one timer re-armed; nothing moved: nothing recorded. A
        published or withdrawn item keeps the deadline it was held to (a later change counts on the new data)."""
        data = self._take_calendar(fact)
        if data is None:
            return
        self._cal = WorkCalendar(data)
        if self._phase in ("published", "withdrawn"):
            return
        what = "解读材料发布期限" if self._inp.kind == "interpretation" else "公开期限"
        self._deadline, entries = recounted(what, self._deadline, self._compute_deadline(), self._moves, fact,
                                            data.version)
        await self._recount_recorded(entries)

    # --- human steps ----------------------------------------------------------------------------

    @workflow.update
    async def review(self, cmd: ReviewItem) -> CatalogueItemView:
        self._refuse_review(cmd)
        await self._confidentiality_review(cmd, "approved")
        return self.view()

    @review.validator
    def _refuse_review(self, cmd: ReviewItem) -> None:
        refuse(why_not_review(cmd, self._last_editor, own="起草或修改该信息的人员不能审查自己的稿件",
                              nothing=None if self._phase == "in-review" else "该信息当前没有待保密审查的稿件"))

    @workflow.update
    async def publish(self, cmd: PublishItem) -> CatalogueItemView:
        self._refuse_publish(cmd)
        evidence = PublicationEvidence(version=self._version, published_at=workflow.now(), url=cmd.url,
                                       content_sha256=content_sha256(self._content), by=cmd.by)
        self._evidence.append(evidence)
        self._phase = "published"
        late = workflow.now() >= self._deadline.due_at
        self._record("published", cmd.by, f"已公开：{cmd.url}（SHA-256 {evidence.content_sha256[:16]}…）"
                     + ("，超过公开期限" if late else ""))
        await self._persist()
        return self.view()

    @publish.validator
    def _refuse_publish(self, cmd: PublishItem) -> None:
        if self._phase == "published":
            refuse("该信息已公开；内容有变化的，请登记变更后重新审查")
        if self._phase != "approved":
            refuse("未经保密审查通过的信息不能公开（谁签发、谁把关）")
        refuse(why_not_url(cmd.url))

    @workflow.update
    async def change(self, cmd: ChangeItem) -> CatalogueItemView:
        """The item is changed (or a published one replaced): a new version, reviewed again."""
        self._refuse_change(cmd)
        was_published = self._phase == "published"
        self._version += 1
        self._title = cmd.title or self._title
        self._content = cmd.content
        self._number = cmd.document_number or self._number
        self._last_editor = cmd.by
        self._phase = "in-review"
        if was_published:
            # Changed information enters again: 20 days from the change (seed 002 art. 13); the
            # published version stays in the history with its evidence until the new one replaces it.
            self._produced_on = local_date(workflow.now())
            self._deadline = self._compute_deadline()
            self._moves = []
            self._reminded = self._escalated = False
        self._record("replaced" if was_published else "revised", cmd.by,
                     f"登记第 {self._version} 版" + (f"：{cmd.reason}" if cmd.reason else ""))
        await self._persist()
        return self.view()

    @change.validator
    def _refuse_change(self, cmd: ChangeItem) -> None:
        if self._phase == "withdrawn":
            refuse("该信息已撤下，不能再变更")
        if not cmd.content.strip():
            refuse("请填写变更后的内容")

    @workflow.update
    async def withdraw(self, cmd: WithdrawItem) -> CatalogueItemView:
        self._refuse_withdraw(cmd)
        self._phase = "withdrawn"
        if cmd.repealed_on is not None:
            self._repealed_on = cmd.repealed_on
            self._record("repealed", cmd.by, f"废止（{cmd.repealed_on.isoformat()}）并撤下：{cmd.reason}")
        else:
            self._record("withdrawn", cmd.by, f"撤下：{cmd.reason}")
        await self._persist()
        return self.view()

    @withdraw.validator
    def _refuse_withdraw(self, cmd: WithdrawItem) -> None:
        if self._phase == "withdrawn":
            refuse("该信息已撤下")
        if len(cmd.reason.strip()) < 2:
            refuse("撤下须说明理由")
        if cmd.repealed_on is not None:
            if self._inp.legal_kind is None:
                refuse("只有规章或规范性文件才能登记废止")
            if not self._evidence:
                refuse("尚未公开的文件不能登记废止，请直接撤下")
            issued = self._inp.issued_on or self._inp.produced_on
            if cmd.repealed_on < issued:
                refuse(f"废止日期不能早于印发日期 {issued.isoformat()}")
            if cmd.repealed_on > local_date(workflow.now()):
                refuse("废止日期不能晚于今天")

    @workflow.query
    def state(self, _: ItemQuery) -> CatalogueItemView:
        return self.view()

    def view(self) -> CatalogueItemView:
        return CatalogueItemView(
            item_id=self._inp.item_id, kind=self._inp.kind, title=self._title, category_id=self._inp.category_id,
            section=self._inp.section, document_number=self._number, produced_on=self._produced_on,
            policy_id=self._inp.policy_id, summary=self._inp.summary, phase=self._phase, version=self._version,
            created_by=self._inp.created_by, last_editor=self._last_editor, content_sha256=content_sha256(self._content),
            deadline=self._deadline, overdue=self._overdue(), evidence=self._evidence, history=self._history,
            alerts=self._alerts, requested_in=self._inp.requested_in, source=self._inp.source,
            legal_kind=self._inp.legal_kind, issued_on=self._inp.issued_on, repealed_on=self._repealed_on,
        )

    def _overdue(self) -> bool:
        if self._phase == "published":
            return self._evidence[-1].published_at >= self._deadline.due_at
        return self._phase != "withdrawn" and workflow.now() >= self._deadline.due_at

    async def _persist(self) -> None:
        # The public row shows the version last published until a replacement is published.
        shown = self._evidence[-1] if self._evidence else None
        status = self._phase
        if self._phase in ("in-review", "returned", "approved") and shown is not None:
            status = "published"
        record = CatalogueRecord(
            id=self._inp.item_id, kind=self._inp.kind, title=self._title, category_id=self._inp.category_id,
            section=self._inp.section, document_number=self._number, produced_on=self._produced_on,
            policy_id=self._inp.policy_id, status=status, version=self._version, due_at=self._deadline.due_at,
            overdue=self._overdue(), published_at=shown.published_at if shown else None,
            url=shown.url if shown else None, content_sha256=shown.content_sha256 if shown else None,
            summary=self._inp.summary, history=[h.model_dump(mode="json") for h in self._history],
            created_by=self._inp.created_by,
            source_application_id=self._inp.source.application_id if self._inp.source else None,
            source_sha256=self._inp.source.sha256 if self._inp.source else None,
            legal_kind=self._inp.legal_kind, issued_on=self._inp.issued_on, repealed_on=self._repealed_on,
        )
        await save(ProactiveActivities.save_catalogue_item, record)


@workflow.defn(name="PublicOpinionWorkflow")
class PublicOpinionWorkflow(StaffProcess):
    """A public-opinion event: hour clocks from the instant it was found, a warning to the supervisor
    before each limit and an escalation at it while unmet (seed 002 art. 21; seed 001)."""

    Entry, Alert = HistoryEntry, AlertRecord

    @workflow.init
    def __init__(self, inp: OpinionEventInput) -> None:
        self._inp = inp
        self._limits = [LimitState(limit=lim) for lim in opinion_limits(inp.severity, inp.found_at,
                                                                         press_conference=inp.press_conference)]
        self._responses: list[OpinionResponse] = []
        self._begin(inp.event_id, "registered", inp.created_by, f"登记舆情：{inp.title}")
        self._closed = False

    @workflow.run
    async def run(self, inp: OpinionEventInput) -> OpinionEventView:
        await self._persist()
        await self._deadline_loop(lambda: not self._closed)
        return self.view()

    def _next_alert(self) -> Pending[tuple[LimitState, str]] | None:
        candidates = []
        for state in self._limits:
            if state.met_at is not None:
                continue
            if not state.warned:
                candidates.append((state.limit.warn_at, state, "before"))
            elif not state.escalated:
                candidates.append((state.limit.due_at, state, "at"))
        if not candidates:
            return None
        instant, state, stage = min(candidates, key=lambda c: c[0])
        return Pending(instant, (state, stage))

    async def _fire(self, due: tuple[LimitState, str]) -> None:
        state, stage = due
        lim = state.limit
        if stage == "before":
            state.warned = True
            message = (f"舆情「{self._inp.title}」须在 {lim.hours} 小时内{lim.label}（{lim.basis}），"
                       f"期限 {lim.due_at.astimezone(self._inp.found_at.tzinfo).isoformat(timespec='minutes')}，尚未完成")
        else:
            state.escalated = True
            message = f"舆情「{self._inp.title}」{lim.hours} 小时内{lim.label}的期限已届满，仍未完成，请督办"
        await self._alert("escalation", "supervisor", self._inp.supervisor_email, message,
                          key=f"{self._inp.event_id}:{lim.name}:{stage}", entry=f"escalation-{stage}")

    @workflow.update
    async def respond(self, cmd: RecordResponse) -> OpinionEventView:
        self._refuse_respond(cmd)
        at = cmd.at or workflow.now()
        self._responses.append(OpinionResponse(platform=cmd.platform, at=at, by=cmd.by, url=cmd.url, summary=cmd.summary))
        for state in self._limits:
            if state.met_at is None and cmd.platform in state.limit.platforms:
                state.met_at = at
        self._record("response", cmd.by, f"回应（{PLATFORM_LABELS.get(cmd.platform, cmd.platform)}）：{cmd.summary or cmd.url}")
        await self._persist()
        return self.view()

    @respond.validator
    def _refuse_respond(self, cmd: RecordResponse) -> None:
        if self._closed:
            refuse("该舆情已办结")
        if cmd.at is not None and not self._inp.found_at <= cmd.at <= workflow.now() + timedelta(minutes=5):
            refuse("回应时间须在发现舆情之后、不晚于现在")

    @workflow.update
    async def close(self, cmd: CloseEvent) -> OpinionEventView:
        if self._closed:
            refuse("该舆情已办结")
        self._closed = True
        self._record("closed", cmd.by, f"办结{('：' + cmd.note) if cmd.note else ''}")
        await self._persist()
        return self.view()

    @close.validator
    def _refuse_close(self, cmd: CloseEvent) -> None:
        if self._closed:
            refuse("该舆情已办结")
        if not self._responses:
            refuse("尚未记录任何回应，不能办结")

    @workflow.query
    def state(self, _: ItemQuery) -> OpinionEventView:
        return self.view()

    def view(self) -> OpinionEventView:
        return OpinionEventView(event_id=self._inp.event_id, title=self._inp.title, severity=self._inp.severity,
                                found_at=self._inp.found_at, status="closed" if self._closed else "open",
                                limits=self._limits, responses=self._responses, alerts=self._alerts,
                                history=self._history)

    async def _persist(self) -> None:
        record = OpinionRecord(id=self._inp.event_id, title=self._inp.title, severity=self._inp.severity,
                               found_at=self._inp.found_at, status="closed" if self._closed else "open",
                               limits=[s.model_dump(mode="json") for s in self._limits],
                               responses=[r.model_dump(mode="json") for r in self._responses],
                               created_by=self._inp.created_by)
        await save(ProactiveActivities.save_opinion_event, record)
