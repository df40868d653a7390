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
    PY, KeepAliveClient, app_env, bearer_headers, command_line, free_port, has_log_in, load, machine,
    postgres_database, security_settings, seed_user, stack,
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


def cpu_per(s, before: dict[str, float], n: int) -> str:
    now = s.cpu()
    return ", ".join(f"{k} {(now[k] - before.get(k, 0)) * 1000 / n:.1f}" for k in now
                     if now[k] - before.get(k, 0) > 0.05) + " (ms CPU per settled application)"


async def main(args: argparse.Namespace) -> int:
    print(f"# settled benchmark — {machine()}")
    print(f"# command: {command_line()}")
    counts = [int(w) for w in args.workers.split(",")]
    results: list[tuple[int, float, float]] = []
    with stack(keep=args.keep, worktree=args.worktree, rev=args.rev) as s, ExitStack() as resources:
        from core.config import Settings
        from core.temporal import connect
        from db.session import make_engine
        from tests.helpers import application_body

        from bench.raw_workflow import WORKFLOW_TYPE, BenchTrivialWorkflow

        if args.database == "postgres":
            database_url = resources.enter_context(postgres_database("bench_settled"))
        else:
            database_url = f"sqlite:///{s.workdir / 'disclosure.db'}"
        address = s.temporal(args.temporal_db_dir)
        smtp_port = s.smtp_sink()
        app_queue, raw_queue = "bench-settled", "bench-settled-raw"
        env = app_env(address, database_url, smtp_port, s.workdir, app_queue, args.bytecode_cache)
        raw_env = {**env, "DISCLOSURE_TASK_QUEUE": raw_queue}
        api_port = free_port()
        s.api(env, api_port)  # creates the tables before any worker starts
        print(f"  stack: temporal {address} (db {args.temporal_db_dir or 'temp folder on disk'}), "
              f"db {database_url.split('@')[-1]}, uvicorn 1 process on :{api_port}, SMTP sink :{smtp_port}; "
              f"logs in {s.workdir}")

        settings = Settings(temporal_address=address, database_url=database_url, task_queue=raw_queue,
                            data_dir=s.workdir, **security_settings())
        engine = make_engine(database_url)
        client = await connect(settings)
        headers = {}
        body = application_body()
        body.pop("registered_by")
        if has_log_in():
            seed_user(engine, REGISTRAR, ["registrar"])
            headers = bearer_headers(f"http://127.0.0.1:{api_port}", REGISTRAR)
        request = KeepAliveClient.encode("POST", "/api/v1/applications", f"127.0.0.1:{api_port}",
                                         {**headers, "Content-Type": "application/json"},
                                         json.dumps(body, ensure_ascii=False).encode())
        connections = [KeepAliveClient("127.0.0.1", api_port) for _ in range(args.concurrency)]
        idle: asyncio.Queue[KeepAliveClient] = asyncio.Queue()
        for connection in connections:
            idle.put_nowait(connection)

        async def post(_: int) -> str:
            connection = await idle.get()
            try:
                status, _ = await asyncio.wait_for(connection.request(request), 120)
            except BaseException:
                await connection.close()
                raise
            finally:
                idle.put_nowait(connection)
            return "ok" if status == 201 else f"http-{status}"

        async def acknowledged() -> int:
            return await asyncio.to_thread(count_acknowledged, engine)

        async def completed() -> int:
            return (await client.count_workflows(
                f"WorkflowType = '{WORKFLOW_TYPE}' AND ExecutionStatus = 'Completed'")).count

        async def application_phase(n: int, counted: bool) -> tuple[float, dict[str, int]]:
            base = await acknowledged()
            cpu0, t0 = s.cpu(), time.perf_counter()
            intake = asyncio.create_task(run_closed_loop(n, min(args.concurrency, n), post))
            wall, _, outcomes = await intake
            accepted = outcomes.get("ok", 0)
            if counted:
                print(f"    {accepted}/{n} accepted by the API in {wall:.1f} s ({accepted / wall:.1f} /s); outcomes {outcomes}")
            t1 = await wait_until(acknowledged, base + accepted, args.timeout)
            if counted:
                print(f"    CPU: {cpu_per(s, cpu0, max(accepted, 1))}")
            return accepted / (t1 - t0), outcomes

        async def raw_phase(n: int, counted: bool) -> tuple[float, dict[str, int]]:
            tag = uuid.uuid4().hex[:8]
            base = await completed()
            cpu0, t0 = s.cpu(), time.perf_counter()

            async def start(i: int) -> str:
                await client.start_workflow(BenchTrivialWorkflow.run, f"{i}", id=f"raw-{tag}-{i}",
                                            task_queue=raw_queue)
                return "ok"

            wall, _, outcomes = await run_closed_loop(n, min(args.concurrency, n), start)
            started = outcomes.get("ok", 0)
            if counted:
                print(f"    {started}/{n} started in {wall:.1f} s ({started / wall:.1f} /s); outcomes {outcomes}")
            t1 = await wait_until(completed, base + started, args.timeout)
            if counted:
                print(f"    CPU: {cpu_per(s, cpu0, max(started, 1))}")
            return started / (t1 - t0), outcomes

        for workers in counts:
            print(f"  == {workers} worker process(es)")
            procs = [s.worker(env, name=f"worker{workers}-{k}") for k in range(workers)]
            print(f"    worker pids {[p.pid for p in procs]}", flush=True)
            await application_phase(args.warmup, counted=False)
            print(f"  application: {args.applications} registered through the API and acknowledged")
            app_rate, _ = await application_phase(args.applications, counted=True)
            print(f"    settled {app_rate:.1f} /s")
            for proc in procs:
                s.stop(proc)
            procs = [s.start(f"raw{workers}-{k}", [PY, "-m", "bench.raw_workflow"], raw_env) for k in range(workers)]
            await raw_phase(args.warmup, counted=False)
            print(f"  raw: {args.applications} x start_workflow of a trivial workflow with one activity, to completion")
            raw_rate, _ = await raw_phase(args.applications, counted=True)
            print(f"    completed {raw_rate:.1f} /s")
            for proc in procs:
                s.stop(proc)
            results.append((workers, app_rate, raw_rate))
        for connection in connections:
            await connection.close()
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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="1,2", help="worker process counts to measure, comma-separated")
    parser.add_argument("--applications", type=int, default=300, help="applications (and raw workflows) per phase")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--timeout", type=float, default=600, help="max seconds to wait for a phase to settle")
    parser.add_argument("--temporal-db-dir", default=None,
                        help="folder for the dev server's SQLite file (/dev/shm takes fsync out)")
    parser.add_argument("--bytecode-cache", action="store_true",
                        help="let API/worker write .pyc files to a temp PYTHONPYCACHEPREFIX despite PYTHONDONTWRITEBYTECODE")
    parser.add_argument("--rev", default="HEAD", help="git revision to benchmark (a frozen copy is run)")
    parser.add_argument("--worktree", action="store_true", help="run the working tree as it is now")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs, databases)")
    sys.exit(asyncio.run(main(parser.parse_args())))
