"""(issue 15 point 6) Worker and API processes scale out with no shared state but PostgreSQL and Temporal.

One Temporal dev server, one fresh PostgreSQL database, an SMTP sink, `--apis` uvicorn processes and
`--workers` `python worker.py` processes, all separate OS processes on the same task queue. Registers
`--applications` applications through the APIs in turn (a registrar logged in on each API), waits until
every one is acknowledged (letter issued and delivered to the sink: its `letter-sent` event), then reads
each application back through an API other than the one that registered it, and prints what each
process did (its CPU) and the rate. It then reads every application's history from Temporal and counts
the workflow tasks and activities each worker process completed (by the worker's identity, pid@host),
and prints the CPU seconds per application per process kind (API, worker, Temporal, SMTP sink) and what
they give for a province (`--province-applications` a year, `--peak-share` of a working day's
applications in its busiest hour; working days counted from the project's calendar). Exits non-zero if
anything is missing, or if a worker or an API did none of the work.

    .venv/bin/python bench/scale_out.py [--applications 200] [--apis 2] [--workers 2] [--temporal-db-dir /dev/shm]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    HOST, PY, add_stack_options, app_env, bearer_headers, bench_parser, command_line, free_port, load, machine, postgres_database, security_settings,
    seed_user, stack, wait_for_port,
)
from bench.intake import count_acknowledged, run_closed_loop  # noqa: E402

REGISTRAR = "bench-registrar"


async def main(args: argparse.Namespace) -> int:
    print(f"# scale-out benchmark — {machine()}")
    print(f"# command: {command_line()}")
    with stack(keep=args.keep, worktree=args.worktree, rev=args.rev) as s, ExitStack() as resources:
        import httpx

        from db.session import init_db, make_engine
        from tests.helpers import application_body

        database_url = resources.enter_context(postgres_database("bench_scale"))
        engine = make_engine(database_url)
        init_db(engine)
        seed_user(engine, REGISTRAR, ["registrar", "supervisor"])
        address = s.temporal(args.temporal_db_dir)
        env = app_env(address, database_url, s.smtp_sink(), s.workdir, "bench-scale", args.bytecode_cache)
        ports, workers = [], {}
        for a in range(args.apis):
            port = free_port()
            proc = s.start(f"api-{a + 1}", [PY, "-m", "uvicorn", "--factory", "api.main:create_app", "--host", HOST,
                                            "--port", str(port), "--log-level", "warning", "--no-access-log"], env)
            wait_for_port(port, 90, f"API {a + 1}", proc)
            ports.append(port)
        for w in range(args.workers):
            workers[s.worker(env, name=f"worker-{w + 1}").pid] = f"worker-{w + 1}"
        print(f"  stack: temporal {address}, PostgreSQL {database_url.rsplit('/', 1)[-1]}, "
              f"{args.apis} API processes on {ports}, {args.workers} worker processes; logs in {s.workdir}")

        clients = [httpx.AsyncClient(base_url=f"http://{HOST}:{p}", timeout=120,
                                     headers=bearer_headers(f"http://{HOST}:{p}", REGISTRAR)) for p in ports]
        body = application_body()
        body.pop("registered_by")
        registered: dict[str, int] = {}

        async def post(i: int) -> str:
            which = i % len(clients)
            response = await clients[which].post("/api/v1/applications", json=body)
            if response.status_code != 201:
                return f"http-{response.status_code}"
            registered[response.json()["application_id"]] = which
            return "ok"

        for name in workers.values():  # every worker polling before the first application
            await wait_for_line(s.workdir / f"{name}.log", "worker polling task queue", 180, name)
        cpu0 = s.cpu()
        t0 = time.perf_counter()
        wall, _, outcomes = await run_closed_loop(args.applications, args.concurrency, post)
        print(f"  registered {outcomes} in {wall:.1f} s through {len(clients)} APIs "
              f"({', '.join(f'API {k + 1}: {sum(1 for v in registered.values() if v == k)}' for k in range(len(clients)))})")
        n = len(registered)
        next_report = 0.0
        while True:
            done = await asyncio.to_thread(count_acknowledged, engine)
            elapsed = time.perf_counter() - t0
            if elapsed >= next_report:
                print(f"    t={elapsed:5.0f} s acknowledged {done}/{n}  load {load()}", flush=True)
                next_report = elapsed + 15
            if done >= n or elapsed > args.timeout:
                break
            await asyncio.sleep(0.5)
        settled = time.perf_counter() - t0
        cpu1 = s.cpu()

        # Each application read back through another API process than the one that registered it.
        async def read(application_id: str) -> bool:
            other = clients[(registered[application_id] + 1) % len(clients)]
            response = await other.get(f"/api/v1/applications/{application_id}")
            return response.status_code == 200 and "letter-sent" in {e["kind"] for e in response.json()["timeline"]}

        seen = await asyncio.gather(*(read(i) for i in registered))
        for c in clients:
            await c.aclose()
        engine.dispose()
        tasks = await tasks_by_worker(address, list(registered), workers)
        working_days = working_days_in(args.calendar_year)

    per_api = [sum(1 for v in registered.values() if v == k) for k in range(args.apis)]
    every_worker = all(tasks[w]["workflow tasks"] and tasks[w]["activities"] for w in workers.values())
    ok = (outcomes.get("ok", 0) == args.applications and done >= n and all(seen) and every_worker
          and all(per_api))
    print()
    print(f"RESULT scale-out apis={args.apis} workers={args.workers} applications={args.applications}: "
          f"{done}/{n} acknowledged in {settled:.1f} s ({n / settled:.1f}/s), {sum(seen)}/{n} read back through "
          f"the other API with their acknowledgment: {'OK' if ok else 'FAILED'}")
    print("  registered per API: " + ", ".join(f"api-{k + 1} {c}" for k, c in enumerate(per_api)))
    print("  completed per worker (from the applications' histories): " + "; ".join(
        f"{w} {t['workflow tasks']} workflow tasks, {t['activities']} activities" for w, t in tasks.items()))
    cpu = {k: cpu1[k] - cpu0.get(k, 0) for k in cpu1 if k != "load-generator"}
    print("  CPU per application per process (ms): " + ", ".join(f"{k} {v * 1000 / max(n, 1):.1f}" for k, v in cpu.items()))
    kinds = {"api": "API", "worker": "worker", "temporal": "Temporal", "smtp": "SMTP sink"}
    per_kind = {label: sum(v for k, v in cpu.items() if k.split("-")[0] == prefix) / max(n, 1)
                for prefix, label in kinds.items()}
    print("  CPU seconds per application per process kind (all processes of the kind): " + ", ".join(
        f"{label} {v:.4f} s" for label, v in per_kind.items()))
    per_day = args.province_applications / working_days
    peak = per_day * args.peak_share / 3600
    print(f"  province: {args.province_applications:,} applications a year / {working_days} working days in "
          f"{args.calendar_year} (project calendar) = {per_day:,.0f} a working day; {args.peak_share:.0%} of them in "
          f"the busiest hour = {peak:.3f}/s; registering and acknowledging them needs " + ", ".join(
              f"{label} {peak * v:.3f} cores" for label, v in per_kind.items()))
    print(f"  reproduce: {command_line()}")
    return 0 if ok else 1


async def tasks_by_worker(address: str, application_ids: list[str], workers: dict[int, str]) -> dict[str, dict[str, int]]:
    """Workflow tasks and activities each worker process completed, from the applications' histories.

    A worker's identity is the SDK's default, `pid@host`; the pid names the process this script started.
    """
    from core.config import Settings
    from core.temporal import connect

    client = await connect(Settings(temporal_address=address, task_queue="bench-scale", **security_settings()))
    counts = {name: {"workflow tasks": 0, "activities": 0} for name in workers.values()}
    counts["other"] = {"workflow tasks": 0, "activities": 0}

    def owner(identity: str) -> str:
        pid = identity.split("@", 1)[0]
        return workers.get(int(pid), "other") if pid.isdigit() else "other"

    async def one(workflow_id: str) -> None:
        async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
            if event.HasField("workflow_task_completed_event_attributes"):
                counts[owner(event.workflow_task_completed_event_attributes.identity)]["workflow tasks"] += 1
            elif event.HasField("activity_task_started_event_attributes"):
                counts[owner(event.activity_task_started_event_attributes.identity)]["activities"] += 1

    for start in range(0, len(application_ids), 20):
        await asyncio.gather(*(one(i) for i in application_ids[start:start + 20]))
    if not any(counts["other"].values()):
        del counts["other"]
    return counts


async def wait_for_line(path: Path, text: str, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while text not in (path.read_text(errors="replace") if path.exists() else ""):
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not log {text!r} within {timeout:.0f} s (see {path})")
        await asyncio.sleep(0.5)


def working_days_in(year: int) -> int:
    """Working days of `year` by the project's calendar (statutory holidays and 调休 included)."""
    from datetime import date

    from workcalendar.loader import load_calendar_data
    from workcalendar.schedule import WorkCalendar

    days, provisional = WorkCalendar(load_calendar_data()).workdays_between(date(year - 1, 12, 31), date(year, 12, 31))
    if provisional:
        print(f"  note: {year} is not published in the calendar; its working days are provisional")
    return days


if __name__ == "__main__":
    parser = bench_parser(__doc__)
    parser.add_argument("--applications", type=int, default=200)
    parser.add_argument("--apis", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--province-applications", type=int, default=500_000, help="applications a year (sizing line)")
    parser.add_argument("--peak-share", type=float, default=0.30,
                        help="share of a working day's applications arriving in its busiest hour (sizing line)")
    parser.add_argument("--calendar-year", type=int, default=2026, help="year whose working days are counted")
    add_stack_options(parser)
    sys.exit(asyncio.run(main(parser.parse_args())))
