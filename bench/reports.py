"""Issue 14, speed: the annual report of a year of 1,000,000 applications (target < 5 s) and the 考核评议
figures for that year (target < 2 s), on SQLite and/or PostgreSQL.

Bulk-loads `--size` applications received in `--year` (plus 2% received the December before, and
an application-type mix over the six columns of table 三), and their report-grade records: ~97% concluded
in the year with outcomes over every row, 1.5% concluded the next January, the rest still open; 300
handlers in 40 departments, ~6% replied late, 5% extended, some drafts returned. SQLite: executemany
into a file; PostgreSQL: COPY into a fresh database, dropped afterwards. Then times, `--repeat` times
each, what the API does for `GET /api/v1/reports/annual/{year}` (every query, the check and the JSON:
`api.routes.reports._live_report`) and for `GET /api/v1/reports/assessment` (figures per section and
handler, and by month), and prints the query plans.

    .venv/bin/python bench/reports.py [--database sqlite|postgres|both] [--size 1000000] [--year 2025] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import command_line, load, machine, postgres_database, sqlite_value  # noqa: E402

TYPES = ["natural-person", "enterprise", "research-institution", "public-interest-org", "legal-service", "other-org"]
TYPES_W = [80, 10, 3, 2, 3, 2]
HANDLERS = [f"h{i:03d}" for i in range(300)]
DEPARTMENTS = [f"科室{i:02d}" for i in range(40)]


def outcomes() -> tuple[list[str], list[int]]:
    from outcomes import OutcomeCode

    codes = [c.value for c in OutcomeCode]
    weights = [40, 15] + [1] * (len(codes) - 2)
    return codes, weights


def synthetic(size: int, year: int, seed: int = 14) -> Iterator[tuple[dict, dict | None]]:
    rng = random.Random(seed)
    codes, weights = outcomes()
    start = date(year, 1, 1)
    now = datetime.now(UTC)
    for n in range(size):
        carried = rng.random() < 0.02
        received = date(year - 1, 12, rng.randint(1, 31)) if carried else start + timedelta(days=n * 365 // size)
        kind = rng.choices(TYPES, TYPES_W)[0]
        handler = rng.choice(HANDLERS)
        department = DEPARTMENTS[int(handler[1:]) % len(DEPARTMENTS)]  # a handler works in one section
        extended = rng.random() < 0.05
        due = received + timedelta(days=21 + (21 if extended else 0))
        fate = rng.random()
        concluded = None
        if fate < 0.97:
            concluded = min(received + timedelta(days=rng.randint(3, 30)), date(year, 12, 31))
        elif fate < 0.985:
            concluded = date(year + 1, 1, rng.randint(2, 20))
        outcome = rng.choices(codes, weights)[0]
        app_id = f"GK-{received.year}-{n:07d}"
        application = {
            "id": app_id, "received_on": received, "channel": "online", "applicant_name": f"申请人{n}",
            "applicant_type": kind, "applicant_email": None, "applicant_phone": None, "applicant_address": None,
            "delivery_method": "email", "policy": "local",
            "status": ("closed" if concluded and concluded.year == year else "handling"),
            "handler": handler, "department": department, "due_on": due, "due_provisional": False,
            "overdue": concluded is None and due < date(year, 12, 31), "paused": False, "extended": extended,
            "final_outcome": outcome if concluded else None, "closed_at": None, "created_at": now, "updated_at": now,
        }
        record = None
        if concluded is not None:
            ending = "withdrawn" if outcome == "other-3" else "abandoned" if outcome == "other-1" else "replied"
            replied = None if ending == "withdrawn" else concluded
            record = {
                "application_id": app_id, "ending": ending, "received_on": received, "applicant_type": kind,
                "department": department, "handler": handler, "replied_on": replied, "concluded_on": concluded,
                "outcome": outcome, "item_outcomes": json.dumps([{"item_no": 1, "outcome": outcome}]), "due_on": due,
                "on_time": None if replied is None else (replied <= due if rng.random() > 0.06 else False),
                "extended": extended, "review_returns": 1 if rng.random() < 0.08 else 0,
                "signed_by": "chief" if ending == "replied" else None, "recorded_at": now,
            }
        yield application, record


def columns(table: str) -> list[str]:
    from sqlmodel import SQLModel

    import db.models  # noqa: F401

    return [c.name for c in SQLModel.metadata.tables[table].columns]


def load_rows(engine, url: str, size: int, year: int) -> float:
    started = time.perf_counter()
    app_cols, rec_cols = columns("application"), columns("application_report_record")
    if engine.dialect.name == "postgresql":
        import psycopg

        conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        records = []
        with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
            with cur.copy(f"COPY application ({', '.join(app_cols)}) FROM STDIN") as copy:
                for application, record in synthetic(size, year):
                    copy.write_row([application[c] for c in app_cols])
                    if record:
                        records.append(record)
            with cur.copy(f"COPY application_report_record ({', '.join(rec_cols)}) FROM STDIN") as copy:
                for record in records:
                    copy.write_row([record[c] for c in rec_cols])
            cur.execute("ANALYZE")
        return time.perf_counter() - started
    import sqlite3

    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    conn.execute("PRAGMA synchronous=OFF")
    app_sql = f"INSERT INTO application ({', '.join(app_cols)}) VALUES ({', '.join('?' * len(app_cols))})"
    rec_sql = f"INSERT INTO application_report_record ({', '.join(rec_cols)}) VALUES ({', '.join('?' * len(rec_cols))})"
    apps, recs = [], []
    for application, record in synthetic(size, year):
        apps.append(tuple(sqlite_value(application[c]) for c in app_cols))
        if record:
            recs.append(tuple(sqlite_value(record[c]) for c in rec_cols))
        if len(apps) >= 50_000:
            conn.executemany(app_sql, apps)
            conn.executemany(rec_sql, recs)
            conn.commit()
            apps.clear()
            recs.clear()
    conn.executemany(app_sql, apps)
    conn.executemany(rec_sql, recs)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - started


class StatementTimes:
    """Time of each SQL statement at the cursor (SQLAlchemy events), to see which query costs what."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.last: list[tuple[float, str]] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.last.append((time.perf_counter() - conn.info.pop("bench_started"), " ".join(statement.split())[:110]))

    def report(self, title: str) -> None:
        print(f"  {title}, per statement (last run):")
        for seconds, statement in self.last:
            if seconds > 0.01:
                print(f"    {seconds:6.2f} s  {statement}")


def timed(fn, repeat: int, statements: StatementTimes | None = None) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        if statements is not None:
            statements.last = []
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return times, result


def run(database: str, size: int, year: int, repeat: int, sqlite_file: str | None = None) -> None:
    from sqlmodel import Session

    from api.routes.reports import _live_report
    from db import reports_repository as repo
    from db.session import init_db, make_engine

    with ExitStack() as stack:
        if database == "postgres":
            url = stack.enter_context(postgres_database("bench_reports"))
        elif sqlite_file:
            url = f"sqlite:///{Path(sqlite_file).resolve()}"
        else:
            directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-reports-"))
            url = f"sqlite:///{directory}/reports.db"
        reuse = bool(sqlite_file) and database == "sqlite" and Path(sqlite_file).exists()
        engine = make_engine(url)
        init_db(engine)
        if reuse:
            print(f"\n== {database}: reusing {sqlite_file} (loaded by an earlier run with the same --size/--year); {load()}")
        else:
            loaded = load_rows(engine, url, size, year)
            print(f"\n== {database}: {size:,} applications for {year} loaded in {loaded:.0f} s; {load()}")

        def annual():
            with Session(engine) as session:
                return _live_report(session, year, "某市统计局")

        def assessment():
            with Session(engine) as session:
                start, end = date(year, 1, 1), date(year, 12, 31)
                return repo.assessment(session, start, end)

        statements = StatementTimes(engine)
        report_times, report = timed(annual, repeat, statements)
        statements.report("annual report")
        assessment_times, (figures, monthly) = timed(assessment, repeat, statements)
        statements.report("assessment")
        table = {row["key"]: row["cells"]["total"] for row in report["table3"]["rows"]}
        print(f"annual report {year} (GET /api/v1/reports/annual/{year} without HTTP): "
              f"min {min(report_times):.2f} s, median {sorted(report_times)[len(report_times) // 2]:.2f} s, "
              f"max {max(report_times):.2f} s over {repeat} runs (target < 5 s)")
        print(f"  table 三 totals: new {table['new']:,}, carried in {table['carried-in']:,}, "
              f"results {table['results-total']:,}, carried out {table['carried-out']:,}; check ok: {report['check']['ok']}")
        print(f"assessment figures {year} (per section and handler + by month): "
              f"min {min(assessment_times):.2f} s, median {sorted(assessment_times)[len(assessment_times) // 2]:.2f} s, "
              f"max {max(assessment_times):.2f} s over {repeat} runs (target < 2 s); {len(figures)} rows, {len(monthly)} month rows")
        with engine.connect() as connection:
            explain = "EXPLAIN QUERY PLAN " if database == "sqlite" else "EXPLAIN "
            from sqlalchemy import text

            for name, sql in {
                "rows 一 and 四": "SELECT a.applicant_type, sum(CASE WHEN a.received_on >= :s THEN 1 ELSE 0 END), "
                                  "sum(CASE WHEN r.application_id IS NULL THEN 1 ELSE 0 END) FROM application a LEFT OUTER JOIN "
                                  "application_report_record r ON r.application_id = a.id AND r.concluded_on <= :d "
                                  "WHERE a.received_on <= :d GROUP BY a.applicant_type",
                "row 三": "SELECT outcome, applicant_type, count(*) FROM application_report_record "
                         "WHERE concluded_on BETWEEN :s AND :d GROUP BY outcome, applicant_type",
            }.items():
                plan = connection.execute(text(explain + sql), {"d": date(year, 12, 31), "s": date(year, 1, 1)}).all()
                print(f"  plan {name}: " + " | ".join(str(row[-1]) for row in plan))
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sqlite-file", help="keep the SQLite database in this file and reuse it on the next run")
    args = parser.parse_args()
    print(command_line())
    print(machine())
    for database in (["sqlite", "postgres"] if args.database == "both" else [args.database]):
        run(database, args.size, args.year, args.repeat, args.sqlite_file)


if __name__ == "__main__":
    main()
