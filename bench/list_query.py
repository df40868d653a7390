"""(b) The supervisors' list (`db.repository.list_applications`) at 100,000 and 1,000,000 applications.

Bulk-loads synthetic applications (SQLite: executemany; PostgreSQL: COPY into a fresh database that
is dropped afterwards) with realistic distributions — five years of receipts, ~2% open, open ones
mostly `handling`, 300 handlers, ~3% ever overdue — then times each query shape with the real
`list_applications`, splitting each call into its COUNT(*) statement and its page SELECT (timed at
the cursor by SQLAlchemy events), and prints p50/p95. At the largest size it also prints the query
plans and times GET /api/v1/applications through a real uvicorn (which needs a Temporal dev server to
start, so one is started too).

    .venv/bin/python bench/list_query.py [--database sqlite|postgres|both] [--sizes 100000,1000000] [--repeat 20]
"""

from __future__ import annotations

import random
import sys
import time
from collections import defaultdict
from contextlib import ExitStack
from datetime import UTC, date, datetime, time as dtime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    add_code_options, app_env, bearer_headers, bench_parser, command_line, free_port, has_log_in, machine, percentile, postgres_database,
    print_result_table, seed_user, sqlite_value, stack,
)

SUPERVISOR = "bench-chief"

OPEN = ["handling", "awaiting-supplement", "consulting", "in-review", "awaiting-signature", "awaiting-delivery"]
OPEN_W = [60, 10, 10, 8, 7, 5]
CLOSED = ["closed", "withdrawn", "abandoned"]
CLOSED_W = [90, 6, 4]
CHANNELS = ["online", "letter-registered", "letter-ordinary", "in-person", "fax", "email", "oral"]
CHANNELS_W = [55, 15, 5, 15, 1, 8, 1]
HANDLERS = [f"h{i:03d}" for i in range(300)]
DEPARTMENTS = [f"科室{i:02d}" for i in range(40)]
OUTCOMES = ["disclosed", "partly-disclosed", "not-disclosed", "not-held", "other"]


def synthetic_rows(start: int, stop: int, today: date, seed: int = 7):
    """Rows start..stop-1: receipts spread over five years up to today; id GK-YEAR-NNNNNN in receipt order."""
    rng = random.Random(seed + start)
    span = 5 * 365
    now = datetime.now(UTC)
    for n in range(start, stop):
        # n is spread evenly over the five years (oldest first), so each size is a prefix of the next.
        received = today - timedelta(days=span - 1 - (n * 7919) % span)
        age = (today - received).days
        is_open = (age <= 45 and rng.random() < 0.8) or rng.random() < 0.003
        status = rng.choices(OPEN, OPEN_W)[0] if is_open else rng.choices(CLOSED, CLOSED_W)[0]
        extended = rng.random() < 0.05
        due = received + timedelta(days=21 + (21 if extended else 0) + rng.randint(-2, 3))
        overdue = (is_open and due < today) or (not is_open and rng.random() < 0.03)
        ts = datetime.combine(received, dtime(9), tzinfo=UTC)
        closed_at = None if is_open else datetime.combine(min(due, today), dtime(15), tzinfo=UTC)
        channel = rng.choices(CHANNELS, CHANNELS_W)[0]
        yield {
            "id": f"GK-{received.year:04d}-{n:07d}",
            "received_on": received,
            "channel": channel,
            "applicant_name": f"申请人{n}",
            "applicant_type": "natural-person" if rng.random() < 0.85 else "legal-person",
            "applicant_email": f"a{n}@example.cn",
            "applicant_phone": None,
            "applicant_address": "某市某区某路1号",
            "delivery_method": "email" if channel in ("online", "email") else "post",
            "policy": "local",
            "status": status,
            "handler": rng.choice(HANDLERS) if rng.random() < 0.97 else None,
            "department": rng.choice(DEPARTMENTS),
            "due_on": due,
            "due_provisional": False,
            "overdue": overdue,
            "paused": status == "consulting",
            "extended": extended,
            "extension_pending": False,  # bench/pages.py sets it where its events leave a request undecided
            "final_outcome": None if is_open else rng.choice(OUTCOMES),
            "closed_at": closed_at,
            "created_at": ts,
            "updated_at": closed_at or now,
            "version": 0,  # not versioned, as intake's row (db.models.Application.version; ignored before it existed)
        }


# Columns a synthetic row leaves out are written empty (NULL): the clock copy and the broadcaster's note of
# migration 0015 (issue 15 point 4), which the lists never read.
def table_columns(engine) -> list[str]:
    from db.models import Application

    return [c.name for c in Application.__table__.columns]


def bulk_insert(engine, url: str, start: int, stop: int, today: date) -> None:
    columns = table_columns(engine)
    chunk = 50_000
    if engine.dialect.name == "postgresql":
        import psycopg

        conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
            with cur.copy(f"COPY application ({', '.join(columns)}) FROM STDIN") as copy:
                for row in synthetic_rows(start, stop, today):
                    copy.write_row([row.get(c) for c in columns])
        return
    import sqlite3

    path = url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")

    sql = f"INSERT INTO application ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    batch = []
    for row in synthetic_rows(start, stop, today):
        batch.append(tuple(sqlite_value(row.get(c)) for c in columns))
        if len(batch) >= chunk:
            conn.executemany(sql, batch)
            conn.commit()
            batch.clear()
    if batch:
        conn.executemany(sql, batch)
        conn.commit()
    conn.close()


def shapes(today: date) -> dict[str, dict]:
    soon = today + timedelta(days=5)
    return {
        "status=handling, offset 0": dict(status="handling"),
        "status=handling, offset 5000 (page 101)": dict(status="handling", offset=5000),
        "overdue=true, offset 0": dict(overdue=True),
        "overdue=true, offset 10000 (page 201)": dict(overdue=True, offset=10000),
        f"due_before={soon}, offset 0": dict(due_before=soon),
        f"status=handling & due_before={soon}": dict(status="handling", due_before=soon),
        "handler=h042, offset 0": dict(handler="h042"),
        "handler=h042 & status=handling": dict(handler="h042", status="handling"),
        "no filter, offset 0": dict(),
        "no filter, offset 50000 (page 1001)": dict(offset=50000),
        # Keyset pages (cursor = the previous page's next_cursor): the same pages as the offset shapes above.
        "status=handling, page 101 by cursor": dict(status="handling", cursor_at=5000),
        "overdue=true, page 201 by cursor": dict(overdue=True, cursor_at=10000),
        "no filter, page 1001 by cursor": dict(cursor_at=50000),
        f"due_before={soon}, page 101 by cursor": dict(due_before=soon, cursor_at=5000),
        "department=科室07, offset 0": dict(department="科室07"),
        "department=科室07, page 101 by cursor": dict(department="科室07", cursor_at=5000),
        "open=true, offset 0": dict(open_only=True),
        f"open=true & due_before={soon}": dict(open_only=True, due_before=soon),
        "open=true, page 101 by cursor": dict(open_only=True, cursor_at=5000),
    }


def resolve(engine, filters: dict) -> dict | None:
    """Filters for list_applications: `cursor_at=N` becomes `after=` the cursor of row N (the page after it).

    None: this revision's list_applications does not take these arguments (an older --rev).
    """
    from sqlmodel import Session

    from db.repository import list_applications

    filters = dict(filters)
    cursor_at = filters.pop("cursor_at", None)
    try:
        with Session(engine) as session:
            if cursor_at is not None:
                page = list_applications(session, offset=cursor_at - 50, limit=50, **filters)
                filters["after"] = page.next_cursor
            else:
                list_applications(session, limit=1, **filters)
    except (TypeError, AttributeError):
        return None
    return filters


class StatementTimer:
    """Times every statement at the cursor; list_applications runs a COUNT(*) and then the page SELECT."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.records: list[tuple[str, float, str, object]] = []
        self._t0 = 0.0
        event.listen(engine, "before_cursor_execute", self.before)
        event.listen(engine, "after_cursor_execute", self.after)

    def before(self, conn, cursor, statement, parameters, context, executemany):
        self._t0 = time.perf_counter()

    def after(self, conn, cursor, statement, parameters, context, executemany):
        kind = "count" if "count(" in statement.lower() else "page"
        self.records.append((kind, time.perf_counter() - self._t0, statement, parameters))


def explain(engine, statement: str, parameters) -> str:
    from sqlalchemy import text

    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        cur = raw.cursor()
        if engine.dialect.name == "postgresql":
            cur.execute("EXPLAIN " + statement, parameters)
            return " | ".join(r[0].strip() for r in cur.fetchall())
        cur.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        return " | ".join(str(r[-1]) for r in cur.fetchall())


def measure(engine, today: date, repeat: int, show_plans: bool) -> dict[str, dict[str, list[float]]]:
    from sqlmodel import Session

    from db.repository import list_applications

    timer = StatementTimer(engine)
    results: dict[str, dict[str, list[float]]] = {}
    for name, filters in shapes(today).items():
        filters = resolve(engine, filters)
        if filters is None:
            print(f"    {name:45s} (not supported by this revision)")
            continue
        times: dict[str, list[float]] = defaultdict(list)
        last: list[tuple[str, str, object]] = []
        for i in range(repeat + 1):  # the first call warms caches and is not counted
            timer.records.clear()
            with Session(engine) as session:
                t0 = time.perf_counter()
                rows, total = list_applications(session, limit=50, **filters)
                elapsed = time.perf_counter() - t0
            if i == 0:
                continue
            times["call"].append(elapsed)
            per_kind: dict[str, float] = defaultdict(float)  # a call may run 0-1 COUNT and 1-2 page SELECTs
            for kind, seconds, _, _ in timer.records:
                per_kind[kind] += seconds
            for kind in ("count", "page"):
                times[kind].append(per_kind[kind])
            last = [(kind, statement, parameters) for kind, _, statement, parameters in timer.records]
        results[name] = times
        print(f"    {name:45s} call p50 {percentile(times['call'], 50) * 1e3:8.1f} ms  "
              f"p95 {percentile(times['call'], 95) * 1e3:8.1f} ms  | COUNT p50 {percentile(times['count'], 50) * 1e3:8.1f}"
              f"  page p50 {percentile(times['page'], 50) * 1e3:8.1f} ms | total={total} rows={len(rows)}", flush=True)
        if show_plans:
            for kind, statement, parameters in last:
                print(f"        plan {kind}: {explain(engine, statement, parameters)[:400]}")
    from sqlalchemy import event

    event.remove(engine, "before_cursor_execute", timer.before)
    event.remove(engine, "after_cursor_execute", timer.after)
    return results


def http_once(s, url: str, today: date, repeat: int) -> dict[str, list[float]]:
    import httpx

    from db.session import make_engine

    address = s.temporal()
    port = free_port()
    s.api(app_env(address, url, free_port(), s.workdir, "bench-list"), port)
    out: dict[str, list[float]] = {}
    engine = make_engine(url)
    headers = bearer_headers(f"http://127.0.0.1:{port}", SUPERVISOR)  # a supervisor sees every department
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, headers=headers) as http:
        for name, filters in shapes(today).items():
            filters = resolve(engine, filters)
            if filters is None:
                continue
            names = {"open_only": "open", "after": "cursor"}
            # No cursor (None: fewer rows than the cursor's position, at a small --sizes) is no parameter, as
            # list_applications(after=None) in process; "cursor=None" would be refused with 422.
            params = {names.get(k, k): (str(v).lower() if isinstance(v, bool) else str(v))
                      for k, v in filters.items() if v is not None}
            params["limit"] = "50"
            times = []
            for i in range(repeat + 1):
                t0 = time.perf_counter()
                response = http.get("/api/v1/applications", params=params)
                elapsed = time.perf_counter() - t0
                response.raise_for_status()
                if i:
                    times.append(elapsed)
            out[name] = times
            answer = response.json()
            print(f"    HTTP {name:40s} p50 {percentile(times, 50) * 1e3:8.1f} ms  p95 {percentile(times, 95) * 1e3:8.1f} ms"
                  f"  total={answer['total']}{'+' if answer.get('total_is_lower_bound') else ''}", flush=True)
    engine.dispose()
    return out


def run_database(kind: str, sizes: list[int], repeat: int, http_repeat: int, s, resources: ExitStack) -> list[str]:
    from sqlalchemy import text

    from clock import local_date
    from db.session import init_db, make_engine

    today = local_date(datetime.now(UTC))
    url = (resources.enter_context(postgres_database("bench_list")) if kind == "postgres"
           else f"sqlite:///{s.workdir / 'list.db'}")
    engine = make_engine(url)
    init_db(engine)
    if has_log_in():
        seed_user(engine, SUPERVISOR, ["supervisor"])
    lines = []
    loaded = 0
    for size in sizes:
        t0 = time.perf_counter()
        bulk_insert(engine, url, loaded, size, today)
        load = time.perf_counter() - t0
        t0 = time.perf_counter()
        with engine.connect() as conn:
            if kind == "postgres":
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE application"))
            else:
                conn.execute(text("ANALYZE"))
                conn.commit()
        analyze = time.perf_counter() - t0
        loaded = size
        print(f"  {kind}: {size:,} applications loaded (+{size - (sizes[sizes.index(size) - 1] if sizes.index(size) else 0):,}"
              f" rows in {load:.1f} s, ANALYZE {analyze:.1f} s)", flush=True)
        results = measure(engine, today, repeat, show_plans=size == sizes[-1])
        for name, t in results.items():
            if not t.get("call"):
                continue
            p95 = percentile(t["call"], 95)
            lines.append(f"| {kind} | {size:,} | {name} | {percentile(t['call'], 50) * 1e3:.1f} | {p95 * 1e3:.1f} | "
                         f"{percentile(t['count'], 50) * 1e3:.1f} | {percentile(t['page'], 50) * 1e3:.1f} | "
                         f"{'yes' if p95 < 0.05 else 'NO'} |")
    if http_repeat:
        http = http_once(s, url, today, http_repeat)
        for name, t in http.items():
            lines.append(f"| {kind} HTTP | {sizes[-1]:,} | GET {name} | {percentile(t, 50) * 1e3:.1f} | "
                         f"{percentile(t, 95) * 1e3:.1f} | | | {'yes' if percentile(t, 95) < 0.05 else 'NO'} |")
        for name, proc in list(s.procs):
            s.stop(proc)
        s.procs.clear()
    engine.dispose()
    return lines


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=20, help="timed calls per query shape")
    parser.add_argument("--http-repeat", type=int, default=10, help="timed GETs per shape at the largest size (0: skip)")
    add_code_options(parser)
    args = parser.parse_args()
    sizes = sorted(int(x) for x in args.sizes.split(","))
    print(f"# list benchmark — {machine()}")
    print(f"# command: {command_line()}")
    lines = []
    with stack(keep=args.keep, worktree=args.worktree, rev=args.rev) as s:  # one frozen copy for both databases
        for kind in (["sqlite", "postgres"] if args.database == "both" else [args.database]):
            with ExitStack() as resources:
                lines += run_database(kind, sizes, args.repeat, args.http_repeat, s, resources)
    print_result_table(
        "list_applications (limit 50; times in ms; call = whole list_applications incl. ORM; target p95 < 50 ms)",
        ["database", "rows", "shape", "call p50", "call p95", "COUNT p50", "page p50", "p95 < 50 ms"], lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
