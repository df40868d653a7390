"""(issue 15 point 6) Worker and API processes scale out with no shared state but PostgreSQL and Temporal.

One Temporal dev server, one fresh PostgreSQL database, an SMTP sink, `--apis` uvicorn processes and
`--workers` `python worker.py` processes, all separate OS processes on the same task queue. Registers
`--applications` applications through the APIs in turn (a registrar logged in on each API), waits until
every one is acknowledged (letter issued and delivered to the sink: its `letter-sent` event), then reads
each application back through an API other than the one that registered it, and prints what each
process did (its CPU) and the rate. Exits non-zero if anything is missing.

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
    HOST, PY, app_env, bearer_headers, command_line, free_port, load, machine, postgres_database, seed_user, stack,
    wait_for_port,
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
        ports = []
        for a in range(args.apis):
            port = free_port()
            proc = s.start(f"api-{a + 1}", [PY, "-m", "uvicorn", "--factory", "api.main:create_app", "--host", HOST,
                                            "--port", str(port), "--log-level", "warning", "--no-access-log"], env)
            wait_for_port(port, 90, f"API {a + 1}", proc)
            ports.append(port)
        for w in range(args.workers):
            s.worker(env, name=f"worker-{w + 1}")
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

        await asyncio.sleep(3)  # workers polling
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

    ok = outcomes.get("ok", 0) == args.applications and done >= n and all(seen)
    print()
    print(f"RESULT scale-out apis={args.apis} workers={args.workers} applications={args.applications}: "
          f"{done}/{n} acknowledged in {settled:.1f} s ({n / settled:.1f}/s), {sum(seen)}/{n} read back through "
          f"the other API with their acknowledgment: {'OK' if ok else 'FAILED'}")
    print("  CPU per application (ms): " + ", ".join(
        f"{k} {(cpu1[k] - cpu0.get(k, 0)) * 1000 / max(n, 1):.1f}" for k in cpu1 if k != "load-generator"))
    print(f"  reproduce: {command_line()}")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, default=200)
    parser.add_argument("--apis", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--temporal-db-dir", default=None)
    parser.add_argument("--bytecode-cache", action="store_true")
    parser.add_argument("--rev", default="HEAD", help="git revision to benchmark (a frozen copy is run)")
    parser.add_argument("--worktree", action="store_true", help="run the working tree instead of HEAD")
    parser.add_argument("--keep", action="store_true")
    sys.exit(asyncio.run(main(parser.parse_args())))
