"""(a) Intake throughput: applications accepted per second through the full HTTP API vs raw start_workflow.

Starts, on 127.0.0.1 only: a Temporal dev server (temp --db-filename, the project's search
attributes), an SMTP sink, `python worker.py` (N processes) and uvicorn `api.main:create_app`.
Then, against that same Temporal server:

  1. API phase: `--concurrency` clients, each on its own keep-alive connection (bench.common.KeepAliveClient;
     `--http-client httpx` for httpx.AsyncClient), POST /api/v1/applications, `--requests` in all;
  2. wait until every started workflow has acknowledged and persisted (the worker is idle again);
  3. raw phase: the same number of `client.start_workflow(DisclosureApplicationWorkflow.run, ApplicationInput)`
     at the same concurrency, with the input built as api/routes/applications.py builds it;
  4. drain again, and print throughput, p50/p99, and the ratio API / raw.

    .venv/bin/python bench/intake.py [--requests 2000] [--concurrency 100] [--database sqlite|postgres]
        [--no-worker] [--temporal-db-dir /dev/shm | --temporal-address host:port]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    KeepAliveClient, PostPool, add_stack_options, app_env, application_input, application_template, bench_parser,
    command_line, database_url, free_port, has_log_in, machine, percentile, print_footer, raw_client,
    registrar_headers, stack, summary_ms,
)

REGISTRAR = "bench-desk"


async def run_closed_loop(n: int, concurrency: int, call) -> tuple[float, list[float], dict[str, int]]:
    """`concurrency` clients, each sending its next request as soon as the previous answered, n in all."""
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    counter = iter(range(n))

    async def client_loop() -> None:
        for i in counter:
            t0 = time.perf_counter()
            try:
                outcome = await call(i)
            except Exception as error:  # counted, not fatal: the figure must show failures
                outcome = type(error).__name__
            latencies.append(time.perf_counter() - t0)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

    start = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    return time.perf_counter() - start, latencies, outcomes


def count_acknowledged(engine) -> int:
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM application_event WHERE kind = 'letter-sent'")).scalar_one()


async def drain(engine, expected: int, timeout: float) -> float:
    """Wait until `expected` workflows have sent their acknowledgment and persisted it (then they sit on timers)."""
    start = time.perf_counter()
    while True:
        done = await asyncio.to_thread(count_acknowledged, engine)
        if done >= expected:
            return time.perf_counter() - start
        if time.perf_counter() - start > timeout:
            print(f"  drain: only {done}/{expected} acknowledged after {timeout:.0f} s; continuing")
            return float("nan")
        await asyncio.sleep(0.5)


def worker_cpu_ms(s, before: dict[str, float], outcomes: dict[str, int]) -> float:
    """Worker CPU (all worker processes) since `before`, per accepted application, in ms."""
    now = s.cpu()
    used = sum(now[k] - before.get(k, 0) for k in now if k.startswith("worker"))
    return used * 1000 / max(outcomes.get("ok", 0), 1)


def report(name: str, n: int, wall: float, latencies: list[float], outcomes: dict[str, int]) -> float:
    ok = outcomes.get("ok", 0)
    rate = ok / wall
    print(f"  {name}: {ok}/{n} accepted in {wall:.2f} s = {rate:.1f} /s; latency {summary_ms(latencies)}; "
          f"outcomes {outcomes}")
    return rate


async def main(args: argparse.Namespace) -> int:
    print(f"# intake benchmark — {machine()}")
    print(f"# command: {command_line()}")
    with stack(keep=args.keep, worktree=args.worktree, rev=args.rev) as s, ExitStack() as resources:
        import httpx

        from db.session import make_engine
        from tests.helpers import application_body
        from workflows.application import DisclosureApplicationWorkflow
        from temporalio.common import WorkflowIDReusePolicy

        url = database_url(args.database, s, resources, "bench_intake")
        # An existing server (e.g. the compose stack's Temporal on PostgreSQL) must have the project's
        # search attributes (docker-compose.yml's temporal-setup job creates them).
        address = args.temporal_address or s.temporal(args.temporal_db_dir)
        smtp_port = s.smtp_sink()
        task_queue = "bench-intake"
        env = app_env(address, url, smtp_port, s.workdir, task_queue, args.bytecode_cache)
        api_port = free_port()
        s.api(env, api_port)  # creates the tables (init_db) before the workers start
        for w in range(0 if args.no_worker else args.workers):
            s.worker(env, name=f"worker{w}")
        print(f"  stack: temporal {address}, db {url.split('@')[-1]}, {args.workers} worker process(es), "
              f"uvicorn 1 process on :{api_port}; logs in {s.workdir}")

        # The raw client gets the same settings, so core.temporal.connect gives it the same encrypting converter.
        engine = make_engine(url)
        settings, client = await raw_client(address, url, task_queue, data_dir=s.workdir)
        headers = registrar_headers(engine, api_port, REGISTRAR)
        if has_log_in():
            print(f"  logged in as registrar {REGISTRAR!r}; payload codec on API, worker and raw client")

        body = application_body()
        registered_by = body.pop("registered_by")
        if has_log_in():
            registered_by = REGISTRAR  # the API takes identity from the token only
        else:
            body["registered_by"] = registered_by
        api_path = "/api/v1/applications"
        if args.http_client == "httpx":
            limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
            http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", limits=limits, timeout=60, headers=headers)

            async def post(_: int) -> str:
                response = await http.post(api_path, json=body)
                return "ok" if response.status_code == 201 else f"http-{response.status_code}"
        else:
            request = KeepAliveClient.encode("POST", api_path, f"127.0.0.1:{api_port}",
                                             {**headers, "Content-Type": "application/json"},
                                             json.dumps(body, ensure_ascii=False).encode())
            pool = PostPool(api_port, args.concurrency, request, 60)
            post = pool.post

        # Warm-up: connections, imports, first workflow tasks (not counted).
        await run_closed_loop(args.warmup, min(args.concurrency, args.warmup), post)
        if not args.no_worker:
            await drain(engine, args.warmup, 120)

        async def measured_phase(label: str, call, acknowledged_before: int) -> tuple[float, list[float], dict[str, int]]:
            """`--requests` calls, `--concurrency` at a time, then (with a worker) the wait until all are acknowledged."""
            cpu0 = phase_cpu0 = s.cpu()
            wall, latencies, outcomes = await run_closed_loop(args.requests, args.concurrency, call)
            rate = report(label, args.requests, wall, latencies, outcomes)
            print(f"  CPU during {label} phase: {s.cpu_delta(cpu0)}")
            if not args.no_worker:
                cpu0 = s.cpu()
                drained = await drain(engine, acknowledged_before + outcomes.get("ok", 0), args.drain_timeout)
                print(f"  worker caught up {drained:.1f} s after the {label} phase ended; CPU while draining: {s.cpu_delta(cpu0)}")
                print(f"  worker CPU per application ({label} phase + drain): {worker_cpu_ms(s, phase_cpu0, outcomes):.1f} ms")
            return rate, latencies, outcomes

        print(f"  API phase: {args.requests} x POST {api_path}, {args.concurrency} concurrent clients "
              f"({args.http_client} HTTP client)")
        api_rate, api_lat, api_out = await measured_phase("API", post, args.warmup)
        if args.http_client == "httpx":
            await http.aclose()
        else:
            await pool.close()

        # Raw phase: the same workflow and input, as the route builds it.
        create, policy, calendar_data = application_template(body, settings, engine)
        run_id = datetime.now(timezone.utc).strftime("%H%M%S")

        async def start(i: int) -> str:
            application_id = f"RAW{run_id}-{create.received_on.year}-{i:06d}"
            inp = application_input(application_id, create, registered_by, policy, calendar_data, settings)
            await client.start_workflow(
                DisclosureApplicationWorkflow.run, inp, id=application_id, task_queue=task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
            return "ok"

        print(f"  raw phase: {args.requests} x client.start_workflow, {args.concurrency} concurrent")
        raw_rate, raw_lat, raw_out = await measured_phase("raw", start, args.warmup + api_out.get("ok", 0))
        engine.dispose()

    ratio = api_rate / raw_rate
    p99 = percentile(api_lat, 99)
    met = ratio >= 0.7 and p99 < 1.0 and api_out.get("ok", 0) == args.requests
    print()
    print(f"RESULT intake database={args.database} requests={args.requests} concurrency={args.concurrency} "
          f"workers={0 if args.no_worker else args.workers} "
          f"temporal={args.temporal_address or 'dev server, db ' + (args.temporal_db_dir or 'disk (temp folder)')} "
          f"bytecode-cache={args.bytecode_cache} PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}")
    print(f"  API  {api_rate:8.1f} /s  p50 {percentile(api_lat, 50) * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms")
    print(f"  raw  {raw_rate:8.1f} /s  p50 {percentile(raw_lat, 50) * 1000:7.1f} ms  "
          f"p99 {percentile(raw_lat, 99) * 1000:7.1f} ms")
    print(f"  ratio API/raw = {ratio:.2f}  (target >= 0.7 with API p99 < 1 s: {'MET' if met else 'NOT MET'})")
    print_footer()
    return 0


if __name__ == "__main__":
    parser = bench_parser(__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (python worker.py)")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--no-worker", action="store_true",
                        help="no worker process: both phases measure acceptance alone, with no worker catching up "
                             "in the background (the workflows wait in the task queue). Since letters v2 the worker "
                             "renders a PDF per acknowledgment (~3/s on 2 cores), so 1,000 cannot drain between phases")
    parser.add_argument("--drain-timeout", type=float, default=240, help="max seconds to wait for the worker")
    parser.add_argument("--temporal-address", default=None,
                        help="host:port of an existing Temporal server to measure against (default: start a dev "
                             "server); both phases use it, in the default namespace")
    parser.add_argument("--http-client", choices=["lean", "httpx"], default="lean",
                        help="load generator for the API phase: lean (bench.common.KeepAliveClient, default) or "
                             "httpx.AsyncClient (about 16 ms of CPU per request on this machine: it competes with the API)")
    add_stack_options(parser)
    sys.exit(asyncio.run(main(parser.parse_args())))
