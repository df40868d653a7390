"""(c) Worker memory with N open applications (default 10,000) waiting on their deadline timers.

Starts a Temporal dev server, an SMTP sink and one `python worker.py` (SQLite by default), starts N
application workflows with raw `client.start_workflow` (100 concurrent), waits until every one has
sent its acknowledgment and persisted it (it then sleeps on its reminder/overdue timer), and samples
the worker's RSS from /proc every 0.5 s: peak (VmHWM) and settled. Then restarts the worker (cold
cache: nothing is replayed until a workflow gets its next task) and reports RSS again, and finally
queries `--queries` workflows (each query replays a workflow that is not in the cache) to show the
bounded cache: `DISCLOSURE_WORKER_MAX_CACHED_WORKFLOWS` (core/config.py, default 500) sets `max_cached_workflows`.

    .venv/bin/python bench/worker_memory.py [--workflows 10000] [--queries 2000] [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    add_stack_options, application_input, application_template, bench_parser, command_line, hwm_bytes, machine, mib,
    raw_application_body, raw_client, rss_bytes, services, stack,
)
from bench.intake import count_acknowledged, run_closed_loop  # noqa: E402


class RssSampler:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.last = pid, 0, 0
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.last = rss_bytes(self.pid)
            except OSError:
                return
            self.peak = max(self.peak, self.last)
            self.samples.append((time.monotonic(), self.last))
            self._stop.wait(0.5)

    def settled(self, seconds: float) -> int:
        """Mean RSS over the last `seconds`."""
        since = time.monotonic() - seconds
        recent = [r for t, r in self.samples if t >= since]
        return sum(recent) // max(len(recent), 1)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


async def main(args: argparse.Namespace) -> int:
    print(f"# worker memory benchmark — {machine()}")
    print(f"# command: {command_line()}")
    rows = []
    with stack(keep=args.keep, worktree=args.worktree, rev=args.rev) as s, ExitStack() as resources:
        from workflows.application import DisclosureApplicationWorkflow
        from contracts.application_view import StateQuery

        task_queue = "bench-memory"
        url, engine, address, env = services(s, args, resources, "bench_memory", task_queue)
        worker = s.worker(env)
        time.sleep(3)
        sampler = RssSampler(worker.pid)
        print(f"  worker pid {worker.pid} idle RSS {mib(rss_bytes(worker.pid))}")
        rows.append(("worker idle, before any workflow", rss_bytes(worker.pid)))

        # Same settings as the worker's environment: core.temporal.connect gives the same encrypting converter.
        settings, client = await raw_client(address, url, task_queue)
        body, registered_by = raw_application_body()
        create, policy, calendar_data = application_template(body, settings, engine)

        async def start(i: int) -> str:
            application_id = f"MEM-{create.received_on.year}-{i:06d}"
            inp = application_input(application_id, create, registered_by, policy, calendar_data, settings)
            await client.start_workflow(DisclosureApplicationWorkflow.run, inp, id=application_id, task_queue=task_queue)
            return "ok"

        t0 = time.perf_counter()
        wall, _, outcomes = await run_closed_loop(args.workflows, 100, start)
        print(f"  started {outcomes} in {wall:.1f} s")
        next_report = 0.0
        while True:
            done = await asyncio.to_thread(count_acknowledged, engine)
            elapsed = time.perf_counter() - t0
            if elapsed >= next_report:
                print(f"    t={elapsed:6.0f} s acknowledged {done:6d}/{args.workflows} worker RSS {mib(sampler.last)} "
                      f"(peak {mib(sampler.peak)})", flush=True)
                next_report = elapsed + 30
            if done >= args.workflows:
                break
            if elapsed > args.timeout:
                print(f"  TIMEOUT: only {done} acknowledged after {args.timeout:.0f} s")
                break
            await asyncio.sleep(1)
        print(f"  all {done} waiting on their timers {time.perf_counter() - t0:.0f} s after the first start")
        await asyncio.sleep(args.settle)
        rows.append((f"{done} open, all on timers: peak during ramp (VmHWM)", hwm_bytes(worker.pid)))
        rows.append((f"{done} open, all on timers: settled ({args.settle:.0f} s mean)", sampler.settled(args.settle)))
        sampler.stop()

        # Cold cache: a fresh worker process; workflows replay only when they next get a task.
        s.stop(worker)
        worker = s.worker(env, name="worker-restarted")
        sampler = RssSampler(worker.pid)
        await asyncio.sleep(args.settle + 3)
        rows.append((f"restarted worker, {done} open, cold cache: settled", sampler.settled(args.settle)))

        if args.queries:
            qn = min(args.queries, done)

            async def query(i: int) -> str:
                handle = client.get_workflow_handle(f"MEM-{create.received_on.year}-{i:06d}")
                await handle.query(DisclosureApplicationWorkflow.state, StateQuery())
                return "ok"

            qwall, qlat, qout = await run_closed_loop(qn, 20, query)
            print(f"  {qn} queries (each replays an uncached workflow) in {qwall:.1f} s: {qout}")
            await asyncio.sleep(args.settle)
            rows.append((f"restarted worker after {qn} replaying queries: peak (VmHWM)", hwm_bytes(worker.pid)))
            rows.append((f"restarted worker after {qn} replaying queries: settled", sampler.settled(args.settle)))
        sampler.stop()
        engine.dispose()

    worst = max(r for _, r in rows)
    print()
    print(f"RESULT worker memory database={args.database} workflows={args.workflows} max_cached_workflows={os.environ.get('DISCLOSURE_WORKER_MAX_CACHED_WORKFLOWS', '500 (default)')} "
          f"bytecode-cache={args.bytecode_cache} PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}")
    for label, value in rows:
        print(f"  {label:70s} {mib(value):>9s}")
    print(f"  target < 600 MiB (issue 15 point 3): {'MET' if worst < 600 * 2**20 else 'NOT MET'} "
          f"(highest figure {mib(worst)}, ratio {worst / (600 * 2**20):.2f} of the target)")
    print(f"  reproduce: {command_line()}")
    return 0


if __name__ == "__main__":
    parser = bench_parser(__doc__)
    parser.add_argument("--workflows", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=2000, help="queries after the restart (0: skip)")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds averaged for a 'settled' figure")
    parser.add_argument("--timeout", type=float, default=1500.0, help="max seconds for all workflows to reach their timers")
    add_stack_options(parser)
    sys.exit(asyncio.run(main(parser.parse_args())))
