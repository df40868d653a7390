"""The tests' "today": the product's clock (core.clock), pinned by the tests, never the day they run.

`DISCLOSURE_TEST_NOW` (an ISO instant with its offset, e.g. `2027-12-31T23:59:00+08:00`) moves the
whole test session to that instant with `time-machine` (tick=True: the clock runs on from there);
`at_instant` moves one test (fixture `clock_at` in conftest.py).

The Temporal dev server is another process on the real clock. Every workflow the tests' clients
start goes through `PinnedClockInterceptor`: when the tests' clock is ahead of the real one, the
workflow starts with its first task delayed by that offset and a one-shot fast-forward of the same
offset (per-workflow time skipping), and the start returns only once the fast-forward has run. So
a workflow's whole life, its first task included, runs on the tests' clock of the moment it was
started: the API, the activities (same process) and the workflows agree on "now".

A pinned instant already in the past when the suite runs is replaced by its next occurrence (same
month, day and time of day in Asia/Shanghai; 29 February: the next leap year), so each pinned run
keeps its meaning (a due date in an unpublished year, a holiday, a leap day) on whatever day CI
runs. The Makefile runs the date-sensitive tests (marker `dates`) at each pin.
"""

from __future__ import annotations

import asyncio
import calendar
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from typing import Any

import temporalio.api.common.v1 as common
import temporalio.api.workflowservice.v1 as service
import time_machine
from temporalio.api.enums.v1 import EventType
from temporalio.api.enums.v1.time_skipping_pb2 import FastForwardPollingResult
from temporalio.client import Client, Interceptor, OutboundInterceptor, StartWorkflowInput, WorkflowHandle

from clock.deadline import SHANGHAI, local_date
from core import clock

PIN_ENV = "DISCLOSURE_TEST_NOW"
# Below this the tests' clock is the real one (time-machine's own drift is microseconds).
NO_OFFSET = timedelta(seconds=1)
FAST_FORWARD_SECONDS = 60
FIRST_TASK_OR_END = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
}
# The session's pin and the real instant the session's clock was moved to it (tests/conftest.py), or None.
SESSION_PIN: tuple[datetime, datetime] | None = None


def next_occurrence(pinned: datetime, real_now: datetime) -> datetime:
    """`pinned` if it is still ahead of `real_now`, else the first later year where its Shanghai month/day exist.

    The year rolls on the Shanghai calendar (the product's, RULES §3): 2028-02-29 07:00+08:00 is
    2028-02-28 in UTC, and rolls to 2032-02-29 07:00+08:00, never to a 1 March."""
    local = pinned.astimezone(SHANGHAI)
    year = local.year
    candidate = local
    while candidate <= real_now:
        year += 1
        if local.month == 2 and local.day == 29 and not calendar.isleap(year):
            continue
        candidate = local.replace(year=year)
    return candidate.astimezone(timezone.utc)


def session_pin(real_now: datetime) -> datetime | None:
    """The instant this session is pinned to, or None (the real clock)."""
    text = os.environ.get(PIN_ENV, "").strip()
    if not text:
        return None
    pinned = datetime.fromisoformat(text)
    if pinned.tzinfo is None:
        raise ValueError(f"{PIN_ENV} needs an offset, e.g. 2027-10-01T10:00:00+08:00 (got {text!r})")
    return next_occurrence(pinned, real_now)


def real_now() -> datetime:
    """The real instant (the Temporal server's clock), whatever time-machine does to this process."""
    if not time_machine.escape_hatch.is_travelling():
        return datetime.now(timezone.utc)
    return datetime.fromtimestamp(time_machine.escape_hatch.time.time(), timezone.utc)


def clock_offset() -> timedelta:
    """How far the tests' clock (core.clock) is ahead of the real one; zero when not moved."""
    if not time_machine.escape_hatch.is_travelling():
        return timedelta(0)
    return clock.now() - real_now()


def next_new_year(after: datetime) -> datetime:
    """The first Shanghai New Year's midnight after `after`."""
    return datetime(after.astimezone(SHANGHAI).year + 1, 1, 1, tzinfo=SHANGHAI)


def next_shanghai_midnight(after: datetime) -> datetime:
    """The first Shanghai midnight after `after` (a year's turn when `after` is 31 December)."""
    local = after.astimezone(SHANGHAI)
    return datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=SHANGHAI)


@contextmanager
def at_instant(instant: datetime) -> Iterator[datetime]:
    """The tests' clock at `instant` (ticking on) for the block: the API and activities at once, and
    every workflow started meanwhile through a pinned client (PinnedClockInterceptor). `instant` must
    lie ahead of the real clock: a workflow's virtual clock only moves forward."""
    if instant <= real_now() + NO_OFFSET:
        raise ValueError(f"{instant.isoformat()} is not ahead of the real clock: workflows cannot go back")
    with time_machine.travel(instant, tick=True):
        yield instant


def today() -> date:
    """Today for the product (Asia/Shanghai), on the session's clock."""
    return clock.today()


def since(first: date) -> list[str]:
    """The ISO dates from `first` through today: what a date the server took as "today" may be,
    when the test read `first = today()` before asking (Shanghai's midnight may pass meanwhile)."""
    days = (today() - first).days
    return [(first + timedelta(days=n)).isoformat() for n in range(days + 1)]


def shanghai(instant: datetime | str) -> date:
    """The Shanghai date of an instant (ISO text or datetime) the server reported."""
    if isinstance(instant, str):
        instant = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    return local_date(instant)


# --- workflows on the tests' clock ------------------------------------------------------------------


class PinnedClockInterceptor(Interceptor):
    """Starts every workflow at the tests' clock of the moment (see the module's docstring).

    `client` is set once the intercepted client exists (`pinned_client`): the start waits on its
    PollWorkflowExecutionTimeSkipping until the fast-forward has run."""

    def __init__(self) -> None:
        self.client: Client | None = None

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _PinnedStart(next, self)


class _PinnedStart(OutboundInterceptor):
    """start_workflow only: the product and the tests start workflows no other way (no update-with-start)."""

    def __init__(self, next: OutboundInterceptor, owner: PinnedClockInterceptor) -> None:
        super().__init__(next)
        self.owner = owner

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        offset = clock_offset()
        if offset < NO_OFFSET:
            return await super().start_workflow(input)
        if input.start_delay or input.start_signal:
            raise AssertionError(f"{input.id}: a pinned start cannot also have a start delay or a start signal")
        fast_forward = f"pinned-clock-{uuid.uuid4()}"
        config = common.TimeSkippingConfig(enabled=True, disable_propagation=True)
        config.fast_forward_config.id = fast_forward
        config.fast_forward_config.duration.FromTimedelta(offset)
        input.time_skipping_config = config
        # No task before the fast-forward: the delay is skipped by it, so the first task runs at the pin.
        input.start_delay = offset
        handle = await super().start_workflow(input)
        await self._fast_forwarded(input.id, fast_forward)
        return handle

    async def _fast_forwarded(self, workflow_id: str, fast_forward: str) -> None:
        client = self.owner.client
        assert client is not None, "PinnedClockInterceptor.client is not set (use tests.dates.pinned_client)"
        request = service.PollWorkflowExecutionTimeSkippingRequest(
            namespace=client.namespace, workflow_execution=common.WorkflowExecution(workflow_id=workflow_id),
            fast_forward_id=fast_forward)
        deadline = asyncio.get_running_loop().time() + FAST_FORWARD_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            response = await client.workflow_service.poll_workflow_execution_time_skipping(
                request, retry=True, timeout=timedelta(seconds=FAST_FORWARD_SECONDS))
            result = response.fast_forward_polling_result
            if result == FastForwardPollingResult.FAST_FORWARD_POLLING_RESULT_FAST_FORWARD_COMPLETED:
                await self._first_task_scheduled(client, workflow_id)
                return
            if result == FastForwardPollingResult.FAST_FORWARD_POLLING_RESULT_FAST_FORWARD_FAILED:
                if "execution ended" in response.failed_reason:
                    return  # its first task (after the skipped delay) already finished it
                raise AssertionError(f"{workflow_id}: its fast-forward to the tests' clock failed: "
                                     f"{response.failed_reason}")
        raise AssertionError(f"{workflow_id}: never fast-forwarded to the tests' clock")

    @staticmethod
    async def _first_task_scheduled(client: Client, workflow_id: str) -> None:
        """The fast-forward is done before the skipped start delay schedules the first task: wait for that
        too, so that a query right after the start finds a workflow (not "task not scheduled yet")."""
        async for event in client.get_workflow_handle(workflow_id).fetch_history_events(wait_new_event=True):
            if event.event_type in FIRST_TASK_OR_END:
                return


def pinned_client(client: Client) -> Client:
    """`client` with PinnedClockInterceptor: its workflows start on the tests' clock."""
    interceptor = PinnedClockInterceptor()
    config = client.config()
    config["interceptors"] = [*config["interceptors"], interceptor]
    interceptor.client = Client(**config)
    return interceptor.client
