"""(issue 15 point 4) Publishing a calendar year to N open applications waiting on their deadlines.

Starts a Temporal dev server, an SMTP sink and `--workers` `python worker.py` processes (SQLite by
default), starts N application workflows with raw `client.start_workflow` (as bench/worker_memory.py
does), waits until every one has sent its acknowledgment (it then sleeps on its deadline timers), then
publishes a correction of the receipt year (one more day off, so every application's calendar version
changes and each recomputes and persists its due date) by starting the broadcast exactly as
`PUT /api/v1/calendar/years/{year}` does (`CalendarBroadcastBatches`, `--batch` applications per run).
Times, from that start: the broadcast's last run (every signal delivered) and the moment the last
application has persisted its `calendar-updated` event; prints per-second rates, the CPU of each process
per application, the broadcaster's runs and largest run history, and one application's history growth.

`--earlier` publishes a make-up working day instead (every date moves earlier: every application must be woken
before its new wake-up, the worst case). Since issue 15 point 4's recount in the database (RECOUNT_IN_DATABASE):
the broadcaster recounts every open application from its copy and signals only those whose next wake-up moves
earlier; since DEFERRED_WAKE only those whose new wake-up is within a day: the others' dates are moved in the
database like the rest and each is signalled a day before its new wake-up (the broadcaster waits for them with a
timer after its last page; the bench does not wait days: it reports their number and instants). The figure is
then the time until the broadcaster has recounted its last page and every open row shows its moved due date
(`calendar_note` set by the broadcaster, or the `calendar-updated` event of one it woke at publication), and the
signals sent at publication. Starting and acknowledging 100,000 real
applications takes hours on this machine (each renders its acknowledgment), so `--seed-rows K` adds K copies
of a real application's database row (its clock included, under other numbers, with no workflow behind them:
a signal to one would find it gone) to measure the recount of a large open population.

    .venv/bin/python bench/calendar_publish.py [--applications 2000] [--seed-rows 0] [--batch 500] [--workers 1] [--temporal-db-dir /dev/shm]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from contextlib import ExitStack
from types import SimpleNamespace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    add_stack_options, application_input, application_template, bench_parser, command_line, cpu_per, load, machine,
    raw_application_body, raw_client, services, stack,
)
from bench.intake import count_acknowledged, run_closed_loop  # noqa: E402


def count_kind(engine, kind: str) -> int:
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM application_event WHERE kind = :k"), {"k": kind}).scalar_one()


async def wait_for(engine, kind: str, expected: int, timeout: float, t0: float, label: str) -> float:
    next_report = 0.0
    while True:
        done = await asyncio.to_thread(count_kind, engine, kind)
        elapsed = time.perf_counter() - t0
        if elapsed >= next_report:
            print(f"    t={elapsed:6.0f} s {label} {done:6d}/{expected}  load {load()}", flush=True)
            next_report = elapsed + 30
        if done >= expected:
            return elapsed
        if elapsed > timeout:
            print(f"  TIMEOUT: only {done} {label} after {timeout:.0f} s")
            return float("nan")
        await asyncio.sleep(1)


def seed_rows(engine, template_id: str, k: int) -> None:
    """K copies of the application row `template_id` (clock included) as SEED-000000..., open, no workflow."""
    import copy as copying

    from sqlalchemy import insert, select

    from db.models import Application

    table = Application.__table__
    with engine.begin() as conn:
        row = dict(conn.execute(select(table).where(table.c.id == template_id)).mappings().one())
        chunk: list[dict] = []
        for i in range(k):
            seeded = dict(row, id=f"SEED-{i:06d}")
            clock = copying.deepcopy(row["clock"])
            clock["state"]["inp"]["application_id"] = seeded["id"]
            seeded["clock"] = clock
            chunk.append(seeded)
            if len(chunk) == 2000:
                conn.execute(insert(table), chunk)
                chunk = []
        if chunk:
            conn.execute(insert(table), chunk)


def count_rows_moved(engine) -> int:
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM application WHERE calendar_note IS NOT NULL")).scalar_one()


async def recounted(handle) -> SimpleNamespace | None:
    """The broadcast's tally once every page is recounted while it waits to signal the applications whose wake it
    deferred (DEFERRED_WAKE: the `progress` query says `waking`); None before, or on code without the query."""
    try:
        progress = await handle.query("progress")
    except Exception:
        return None
    return SimpleNamespace(**progress) if progress["waking"] else None


async def wait_broadcast(engine, handle, result_task, expected: int, timeout: float, t0: float):
    """Until the broadcast has recounted every page: it ended, or it waits for its deferred wakes."""
    next_report, next_query = 0.0, 0.0
    while not result_task.done():
        elapsed = time.perf_counter() - t0
        if elapsed >= next_report:
            done = await asyncio.to_thread(count_rows_moved, engine)
            print(f"    t={elapsed:6.0f} s rows moved {done:6d}/{expected}  {load()}", flush=True)
            next_report = elapsed + 15
        if elapsed >= next_query:
            if (progress := await recounted(handle)) is not None:
                return progress
            next_query = elapsed + 0.5
        if elapsed > timeout:
            raise SystemExit(f"TIMEOUT: the broadcast did not end in {timeout:.0f} s")
        await asyncio.wait([result_task], timeout=0.2)
    return result_task.result()


def deferred_wakes(engine, broadcast_id: str) -> tuple[int, object, object]:
    """The broadcast's deferred wakes (calendar_wake rows): how many, the earliest and the latest instant."""
    from sqlalchemy import inspect, text

    if not inspect(engine).has_table("calendar_wake"):
        return 0, None, None
    with engine.connect() as conn:
        return tuple(conn.execute(text("SELECT count(*), min(wake_at), max(wake_at) FROM calendar_wake "
                                       "WHERE broadcast_id = :b"), {"b": broadcast_id}).one())


def has_column(engine, name: str) -> bool:
    from sqlalchemy import inspect

    return any(c["name"] == name for c in inspect(engine).get_columns("application"))


async def main(args: argparse.Namespace) -> int:
    print(f"# calendar publication benchmark — {machine()}")
    print(f"# command: {command_line()}")
    with stack(keep=args.keep, worktree=args.worktree, rev=args.rev) as s, ExitStack() as resources:
        from temporalio.api.enums.v1 import EventType

        from workflows.application import DisclosureApplicationWorkflow
        from contracts.calendar import CalendarBroadcastInput, CalendarYearPublished
        from workflows.calendar_broadcast import CalendarBroadcastBatchesWorkflow

        task_queue = "bench-calendar"
        url, engine, address, env = services(s, args, resources, "bench_calendar", task_queue)
        for w in range(args.workers):
            s.worker(env, name=f"worker-{w + 1}")
        settings, client = await raw_client(address, url, task_queue)
        body, registered_by = raw_application_body()
        create, policy, calendar_data = application_template(body, settings, engine)
        year = create.received_on.year

        async def start(i: int) -> str:
            application_id = f"CAL-{year}-{i:06d}"
            inp = application_input(application_id, create, registered_by, policy, calendar_data, settings)
            await client.start_workflow(DisclosureApplicationWorkflow.run, inp, id=application_id, task_queue=task_queue)
            return "ok"

        n = args.applications
        t0 = time.perf_counter()
        wall, _, outcomes = await run_closed_loop(n, 100, start)
        print(f"  started {outcomes} in {wall:.1f} s")
        ramp = await wait_for(engine, "letter-sent", n, args.timeout, t0, "acknowledged")
        print(f"  all {n} open and waiting on their timers {ramp:.0f} s after the first start")
        await asyncio.sleep(5)
        sample = f"CAL-{year}-{n - 1:06d}"
        sample_before = len((await client.get_workflow_handle(sample).fetch_history()).events)
        recount = has_column(engine, "clock")  # the code under test recounts in the database (issue 15 point 4)
        seeded = 0
        if args.seed_rows and recount:
            t_seed = time.perf_counter()
            await asyncio.to_thread(seed_rows, engine, sample, args.seed_rows)
            seeded = args.seed_rows
            print(f"  seeded {seeded} open rows (copies of {sample}'s) in {time.perf_counter() - t_seed:.0f} s", flush=True)
        total = n + seeded

        # A correction of the receipt year: one more day off after the receipt (every application recomputes).
        current = calendar_data.years[year]
        if args.earlier:  # a weekend day after the receipt becomes a make-up working day: every date moves earlier
            extra = next((d for d in (create.received_on + timedelta(days=k) for k in range(1, 40))
                         if d.year == year and d.weekday() >= 5 and d not in current.makeup_workdays
                         and d not in current.holidays), None)
            if extra is None:
                raise SystemExit("no weekend day left in the receipt year to turn into a make-up working day")
            corrected = current.model_copy(update={"makeup_workdays": sorted([*current.makeup_workdays, extra])})
        else:
            extra = next((d for d in (create.received_on + timedelta(days=k) for k in range(1, 40))
                         if d.year == year and d.weekday() < 5 and d not in current.holidays), None)
            if extra is None:
                raise SystemExit("no working day left in the receipt year to turn into a day off")
            corrected = current.model_copy(update={"holidays": sorted([*current.holidays, extra])})
        fact = CalendarYearPublished(schedule=corrected)
        from db.repository import store_calendar_year
        from db.session import session_scope

        with session_scope(engine) as session:  # published, as services/calendar.py publish_year stores it first
            store_calendar_year(session, year, corrected.model_dump(mode="json"), "bench")
        extra_input = {"previous": current} if "previous" in CalendarBroadcastInput.model_fields else {}
        wake_starts = None
        if args.wake_in is not None:
            # The lead that makes the deferred wakes due `--wake-in` seconds from now: the sample's new wake-up (every
            # application's: same receipt, same state) recounted from its copy with the workflow's pure rules.
            from sqlalchemy import text

            from core import clock
            from workcalendar import CalendarData
            from application.deadlines import recount_copy, state_from_copy

            with engine.connect() as conn:
                copy = conn.execute(text("SELECT clock FROM application WHERE id = :i"), {"i": sample}).scalar_one()
            copy = copy if isinstance(copy, dict) else __import__("json").loads(copy)
            old = CalendarData(years={y: calendar_data.years[y] for y in copy["years"]})
            new = old.with_year(corrected)
            now = clock.now()
            wake = recount_copy(state_from_copy(copy, old), new, year, new.version, now).wake_at
            lead = wake - now - timedelta(seconds=args.wake_in)
            extra_input["wake_lead_seconds"] = lead.total_seconds()
            print(f"  new wake-up {wake}; lead {lead} so that the deferred wakes are due {args.wake_in:.0f} s "
                  f"after publication", flush=True)
        cpu0 = s.cpu()
        t1 = time.perf_counter()
        handle = await client.start_workflow(
            CalendarBroadcastBatchesWorkflow.run, CalendarBroadcastInput(fact=fact, batch_size=args.batch, **extra_input),
            id=f"calendar-broadcast-bench-{int(time.time())}", task_queue=task_queue,
        )
        result_task = asyncio.create_task(handle.result())
        deferred = (0, None, None)
        if recount:
            # Each page's rows are written before its run ends: once the broadcast has recounted its last page (it
            # ended, or it waits to signal the wakes it deferred), every row it did not wake at publication shows
            # its moved date (progress printed while it runs).
            result = await wait_broadcast(engine, handle, result_task, total, args.timeout, t1)
            moved_at = broadcast_end = time.perf_counter() - t1
            rows_moved = await asyncio.to_thread(count_rows_moved, engine)
            deferred = await asyncio.to_thread(deferred_wakes, engine, handle.id)
            print(f"    rows with the broadcaster's explanation: {rows_moved}; deferred wakes {deferred[0]} "
                  f"(from {deferred[1]} to {deferred[2]})")
            # The applications it woke at publication record the year themselves: wait for their events too.
            woken = result.told
            updated = max(moved_at, await wait_for(engine, "calendar-updated", woken, args.timeout, t1, "woken recomputed")
                          if woken else 0.0)
        else:
            updated = await wait_for(engine, "calendar-updated", n, args.timeout, t1, "recomputed")
            result = await result_task
            broadcast_end = time.perf_counter() - t1
        broadcast_done = float("nan")
        first_run = await client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id).describe()
        describe = await handle.describe()
        if describe.close_time:
            broadcast_done = (describe.close_time - first_run.start_time).total_seconds()
        cpu_text = cpu_per(s, cpu0, total, "open application")

        sample_published = len((await client.get_workflow_handle(sample).fetch_history()).events)
        wake_text = None
        if args.wake_in is not None and getattr(result, "waking", False):
            # The waking phase: from the instant the deferred wakes are due until the broadcast has ended and every
            # real application woken has recorded the year.
            wait = args.wake_in - (time.perf_counter() - t1)
            if wait > 0:
                await asyncio.sleep(wait)
            cpu_w, t_w = s.cpu(), time.perf_counter()
            woken_result = await asyncio.wait_for(result_task, args.timeout)
            ended = time.perf_counter() - t_w
            recorded = await wait_for(engine, "calendar-updated", n, args.timeout, t_w, "woken recomputed")
            wake_text = (f"waking phase: {woken_result.woken} woken (+{woken_result.gone} seeded rows, no workflow) "
                         f"{ended:.1f} s after they came due, every real one recorded the year after {recorded:.1f} s "
                         f"({n / recorded:.1f}/s); {woken_result.runs} runs in all; CPU "
                         + cpu_per(s, cpu_w, woken_result.woken + woken_result.gone, "deferred wake"))
            result = SimpleNamespace(**{**vars(result), "runs": woken_result.runs})
        largest, runs_seen, run_id = 0, 0, handle.first_execution_run_id
        while run_id and runs_seen < 10_000:
            history = await client.get_workflow_handle(handle.id, run_id=run_id).fetch_history()
            largest = max(largest, len(history.events))
            runs_seen += 1
            last = history.events[-1]
            run_id = (last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
                      if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW else None)
        if not result_task.done():
            result_task.cancel()  # waiting for its deferred wakes (days): the dev server goes with the bench
        sample_after = len((await client.get_workflow_handle(sample).fetch_history()).events)
        engine.dispose()

    rate = total / updated if updated == updated else float("nan")
    print()
    print(f"RESULT calendar publish applications={n} seeded_rows={seeded} batch={args.batch} workers={args.workers} "
          f"database={args.database}")
    recounted_rows = getattr(result, "recounted", 0)
    moved = getattr(result, "moved", 0)
    waking = getattr(result, "waking", False)
    print(f"  broadcast: signals sent at publication {result.told} (+{result.gone} to closed or seeded rows), "
          f"recounted in the database {recounted_rows}, rows moved without a signal {moved}, wakes deferred "
          f"{getattr(result, 'deferred', 0)}, {result.runs} runs (continue-as-new), largest run history {largest} events; "
          + (f"every page recounted after {broadcast_end:.1f} s, then waiting to signal the {deferred[0]} deferred "
             f"wakes each a day before its new wake-up ({deferred[1]} to {deferred[2]})" if waking else
             f"ended after {broadcast_end:.1f} s (close {broadcast_done:.1f} s)"))
    if wake_text:
        print(f"  {wake_text}")
    print(f"  every open row shows its moved due date after {updated:.1f} s: {rate:.1f} applications/s  {load()}")
    print(f"  one application's history: {sample_before} -> {sample_published} events at publication "
          f"(+{sample_published - sample_before})" + (f", {sample_after} once woken" if wake_text else ""))
    print(f"  CPU: {cpu_text}")
    if rate == rate:
        print(f"  extrapolated to 100,000 at this rate: {100_000 / rate / 60:.1f} min (target < 10 min)")
    print(f"  reproduce: {command_line()}")
    return 0


if __name__ == "__main__":
    parser = bench_parser(__doc__)
    parser.add_argument("--applications", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--earlier", action="store_true",
                        help="a make-up working day instead of a day off: every date moves earlier (every application to be woken)")
    parser.add_argument("--seed-rows", type=int, default=0, help="copies of a real application's row (recount code only)")
    parser.add_argument("--wake-in", type=float, default=None,
                        help="with --earlier: the broadcaster's lead set so that the deferred wakes come due this many "
                             "seconds after publication; the bench then measures the waking phase too")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--timeout", type=float, default=3600.0)
    add_stack_options(parser)
    sys.exit(asyncio.run(main(parser.parse_args())))
