"""Settled applications per second (issue 15 point 2): registered through the API and acknowledged
(the acknowledgment issued as a PDF and delivered to the SMTP sink), against raw Temporal end to end.

Starts, on 127.0.0.1 only: a Temporal dev server (temp --db-filename, the project's search attributes),
an aiosmtpd sink, uvicorn `api.main:create_app`. Then for each worker count in --workers (default 1,2):

  1. application: start that many `python worker.py`; --warmup applications (not counted); then
     --applications POST /api/v1/applications from --concurrency keep-alive clients, and wait until every
     one has its acknowledgment delivered (its `letter-sent` event: issued, rendered, sent to the sink).
     Settled/s = applications / (last acknowledgment − first POST). Stop the workers.
  2. raw: start that many `python -m bench.raw_workflow` (a trivial workflow with one activity, the same
     client, converter and codec); --warmup, then the same number of `client.start_workflow` from the
     same concurrency, and wait until all have completed (visibility count). Completed/s likewise.
     Stop the workers.

Prints both rates, their ratio (target >= 0.5), the CPU each process used per settled application,
and the command. Last line: `RESULT settled workers=N ... ratio=R` for each N.

    .venv/bin/python bench/settled.py [--workers 1,2] [--applications 300] [--concurrency 50]
        [--database sqlite|postgres] [--temporal-db-dir /dev/shm] [--worktree | --rev REV]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    PY, KeepAliveClient, PostPool, add_stack_options, app_env, bench_parser, command_line, cpu_per, database_url,
    free_port, load, machine, raw_client, registrar_headers, stack,
)
from bench.intake import count_acknowledged, run_closed_loop  # noqa: E402

REGISTRAR = "bench-desk"
POLL = 0.2  # seconds between counts of settled applications / completed workflows


async def wait_until(count, target: int, timeout: float) -> float:
    """perf_counter() when count() first reached target (polled every POLL s), or nan after timeout."""
    start = time.perf_counter()
    while True:
        done = await count()
        if done >= target:
            return time.perf_counter()
        if time.perf_counter() - start > timeout:
            print(f"    only {done}/{target} after {timeout:.0f} s")
            return float("nan")
        await asyncio.sleep(POLL)


async def main(args: argparse.Namespace) -> int:
    print(f"# settled benchmark — {machine()}")
    print(f"# command: {command_line()}")
    counts = [int(w) for w in args.workers.split(",")]
    results: list[tuple[int, float, float]] = []
    with stack(keep=args.keep, worktree=args.worktree, rev=args.rev) as s, ExitStack() as resources:
        from db.session import make_engine
        from tests.helpers import application_body

        from bench.raw_workflow import WORKFLOW_TYPE, BenchTrivialWorkflow

        url = database_url(args.database, s, resources, "bench_settled")
        address = s.temporal(args.temporal_db_dir)
        smtp_port = s.smtp_sink()
        app_queue, raw_queue = "bench-settled", "bench-settled-raw"
        env = app_env(address, url, smtp_port, s.workdir, app_queue, args.bytecode_cache)
        raw_env = {**env, "DISCLOSURE_TASK_QUEUE": raw_queue}
        api_port = free_port()
        s.api(env, api_port)  # creates the tables before any worker starts
        print(f"  stack: temporal {address} (db {args.temporal_db_dir or 'temp folder on disk'}), "
              f"db {url.split('@')[-1]}, uvicorn 1 process on :{api_port}, SMTP sink :{smtp_port}; "
              f"logs in {s.workdir}")

        engine = make_engine(url)
        _, client = await raw_client(address, url, raw_queue, data_dir=s.workdir)
        body = application_body()
        body.pop("registered_by")
        headers = registrar_headers(engine, api_port, REGISTRAR)
        request = KeepAliveClient.encode("POST", "/api/v1/applications", f"127.0.0.1:{api_port}",
                                         {**headers, "Content-Type": "application/json"},
                                         json.dumps(body, ensure_ascii=False).encode())
        pool = PostPool(api_port, args.concurrency, request, 120)

        async def acknowledged() -> int:
            return await asyncio.to_thread(count_acknowledged, engine)

        async def completed() -> int:
            return (await client.count_workflows(
                f"WorkflowType = '{WORKFLOW_TYPE}' AND ExecutionStatus = 'Completed'")).count

        async def phase(n: int, counted: bool, call, settled_count, verb: str) -> float:
            """`n` calls through `call`, then the wait until `settled_count` has grown by the successful ones:
            settled per second from the first call."""
            base = await settled_count()
            cpu0, t0 = s.cpu(), time.perf_counter()
            wall, _, outcomes = await run_closed_loop(n, min(args.concurrency, n), call)
            done = outcomes.get("ok", 0)
            if counted:
                print(f"    {done}/{n} {verb} in {wall:.1f} s ({done / wall:.1f} /s); outcomes {outcomes}")
            t1 = await wait_until(settled_count, base + done, args.timeout)
            if counted:
                print(f"    CPU: {cpu_per(s, cpu0, max(done, 1), 'settled application')}")
            return done / (t1 - t0)

        async def application_phase(n: int, counted: bool) -> float:
            return await phase(n, counted, pool.post, acknowledged, "accepted by the API")

        async def raw_phase(n: int, counted: bool) -> float:
            tag = uuid.uuid4().hex[:8]

            async def start(i: int) -> str:
                await client.start_workflow(BenchTrivialWorkflow.run, f"{i}", id=f"raw-{tag}-{i}",
                                            task_queue=raw_queue)
                return "ok"

            return await phase(n, counted, start, completed, "started")

        async def measured_round(procs: list, run_phase, heading: str, verb: str) -> float:
            """A warm-up phase, then the counted one, with the worker processes `procs` (stopped afterwards)."""
            await run_phase(args.warmup, counted=False)
            print(heading)
            rate = await run_phase(args.applications, counted=True)
            print(f"    {verb} {rate:.1f} /s")
            for proc in procs:
                s.stop(proc)
            return rate

        for workers in counts:
            print(f"  == {workers} worker process(es)")
            procs = [s.worker(env, name=f"worker{workers}-{k}") for k in range(workers)]
            print(f"    worker pids {[p.pid for p in procs]}", flush=True)
            app_rate = await measured_round(
                procs, application_phase,
                f"  application: {args.applications} registered through the API and acknowledged", "settled")
            procs = [s.start(f"raw{workers}-{k}", [PY, "-m", "bench.raw_workflow"], raw_env) for k in range(workers)]
            raw_rate = await measured_round(
                procs, raw_phase,
                f"  raw: {args.applications} x start_workflow of a trivial workflow with one activity, to completion",
                "completed")
            results.append((workers, app_rate, raw_rate))
        await pool.close()
        engine.dispose()

    print()
    for workers, app_rate, raw_rate in results:
        print(f"  {workers} worker(s): application settled {app_rate:.1f} /s, raw Temporal {raw_rate:.1f} /s, "
              f"ratio {app_rate / raw_rate:.2f} (target >= 0.5: {'MET' if app_rate / raw_rate >= 0.5 else 'NOT MET'})")
    print(f"  machine at the end: {load()}")
    print(f"  reproduce: {command_line()}")
    for workers, app_rate, raw_rate in results:
        print(f"RESULT settled workers={workers} database={args.database} applications={args.applications} "
              f"application={app_rate:.1f}/s raw={raw_rate:.1f}/s ratio={app_rate / raw_rate:.2f}")
    return 0


if __name__ == "__main__":
    parser = bench_parser(__doc__)
    parser.add_argument("--workers", default="1,2", help="worker process counts to measure, comma-separated")
    parser.add_argument("--applications", type=int, default=300, help="applications (and raw workflows) per phase")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--timeout", type=float, default=600, help="max seconds to wait for a phase to settle")
    add_stack_options(parser)
    sys.exit(asyncio.run(main(parser.parse_args())))
