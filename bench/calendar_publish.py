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

    .venv/bin/python bench/calendar_publish.py [--applications 2000] [--batch 500] [--workers 1] [--temporal-db-dir /dev/shm]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from contextlib import ExitStack
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


async def main(args: argparse.Namespace) -> int:
    print(f"# calendar publication benchmark — {machine()}")
    print(f"# command: {command_line()}")
    with stack(keep=args.keep, worktree=args.worktree, rev=args.rev) as s, ExitStack() as resources:
        from temporalio.api.enums.v1 import EventType

        from workflows.application import DisclosureApplicationWorkflow
        from workflows.calendar_broadcast import CalendarBroadcastBatchesWorkflow, CalendarBroadcastInput
        from workflows.messages import CalendarYearPublished

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

        # A correction of the receipt year: one more day off after the receipt (every application recomputes).
        current = calendar_data.years[year]
        extra = next((d for d in (create.received_on + timedelta(days=k) for k in range(1, 40))
                     if d.year == year and d.weekday() < 5 and d not in current.holidays), None)
        if extra is None:
            raise SystemExit("no working day left in the receipt year to turn into a day off")
        corrected = current.model_copy(update={"holidays": sorted([*current.holidays, extra])})
        fact = CalendarYearPublished(schedule=corrected)
        cpu0 = s.cpu()
        t1 = time.perf_counter()
        handle = await client.start_workflow(
            CalendarBroadcastBatchesWorkflow.run, CalendarBroadcastInput(fact=fact, batch_size=args.batch),
            id=f"calendar-broadcast-bench-{int(time.time())}", task_queue=task_queue,
        )
        result_task = asyncio.create_task(handle.result())
        updated = await wait_for(engine, "calendar-updated", n, args.timeout, t1, "recomputed")
        result = await result_task
        broadcast_done = float("nan")
        first_run = await client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id).describe()
        describe = await handle.describe()
        if describe.close_time:
            broadcast_done = (describe.close_time - first_run.start_time).total_seconds()
        cpu_text = cpu_per(s, cpu0, n, "application")

        largest, runs_seen, run_id = 0, 0, handle.first_execution_run_id
        while run_id and runs_seen < 10_000:
            history = await client.get_workflow_handle(handle.id, run_id=run_id).fetch_history()
            largest = max(largest, len(history.events))
            runs_seen += 1
            last = history.events[-1]
            run_id = (last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
                      if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW else None)
        sample_after = len((await client.get_workflow_handle(sample).fetch_history()).events)
        engine.dispose()

    rate = n / updated if updated == updated else float("nan")
    print()
    print(f"RESULT calendar publish applications={n} batch={args.batch} workers={args.workers} database={args.database}")
    print(f"  broadcast: told {result.told}, gone {result.gone}, {result.runs} runs (continue-as-new), largest run "
          f"history {largest} events; last signal delivered after {broadcast_done:.1f} s")
    print(f"  every application recomputed and persisted after {updated:.1f} s: {rate:.1f} applications/s")
    print(f"  one application's history: {sample_before} -> {sample_after} events (+{sample_after - sample_before})")
    print(f"  CPU: {cpu_text}")
    if rate == rate:
        print(f"  extrapolated to 100,000 at this rate: {100_000 / rate / 60:.1f} min (target < 10 min)")
    print(f"  reproduce: {command_line()}")
    return 0


if __name__ == "__main__":
    parser = bench_parser(__doc__)
    parser.add_argument("--applications", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--timeout", type=float, default=3600.0)
    add_stack_options(parser)
    sys.exit(asyncio.run(main(parser.parse_args())))
