"""The public catalogue search (issue 13) at 100,000 published items, through HTTP.

Bulk-loads synthetic published catalogue items (12 categories, five years of production dates, a
文号 on a third of them, titles from a small vocabulary) into a fresh SQLite database, starts a
Temporal dev server and the API (uvicorn), and times GET /api/v1/catalogue and the HTML page
/catalogue for each search shape: newest first, by category, by 文号, by date range, by a title
word (common, matching one item, matching none: the trigram index of migration 0009), and a second
page (keyset cursor). Prints p50/p95 per shape, the query plans, and its command.

    .venv/bin/python bench/catalogue.py [--size 100000] [--repeat 40] [--worktree]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import app_env, command_line, free_port, load, machine, percentile, stack  # noqa: E402

WORDS = ["统计公报", "工业增加值", "居民消费价格", "人口抽样调查", "固定资产投资", "执法检查", "统计年鉴", "农业普查",
         "经济普查", "就业人员工资", "社会消费品零售总额", "能源消费", "规划信息", "财务预算", "人事任免"]
CATEGORIES = [(f"cat-{i:02d}", f"类别{i:02d}", f"科室{i % 4}") for i in range(12)]


def rows(size: int, today: date):
    rng = random.Random(13)
    now = datetime.now(UTC)
    for n in range(size):
        produced = today - timedelta(days=(n * 7919) % (5 * 365))
        cat = CATEGORIES[n % len(CATEGORIES)]
        yield {
            "id": f"ML-{produced.year}-{n:010d}", "kind": "document",
            "title": f"{produced.year}年{rng.choice(WORDS)}{rng.choice(WORDS)}（第{n}号）",
            "category_id": cat[0], "section": cat[2],
            "document_number": f"统发〔{produced.year}〕{n}号" if n % 3 == 0 else None,
            "produced_on": produced, "policy_id": None, "status": "published", "version": 1,
            "due_at": now, "overdue": False, "published_at": now, "url": f"/gk/{n}.html", "content_sha256": "0" * 64,
            "summary": "", "history": [], "created_by": "bench", "updated_at": now,
        }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--worktree", action="store_true", help="bench the working tree instead of HEAD")
    args = parser.parse_args()
    print(f"# catalogue benchmark — {machine()}")
    print(f"# command: {command_line()}")
    with stack(worktree=args.worktree) as s:
        import httpx
        from sqlalchemy import insert, text

        from clock import local_date
        from db.models_proactive import CatalogueCategory, CatalogueItem
        from db.session import init_db, make_engine

        today = local_date(datetime.now(UTC))
        url = f"sqlite:///{s.workdir / 'catalogue.db'}"
        engine = make_engine(url)
        init_db(engine)
        t0 = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(insert(CatalogueCategory), [
                {"id": c, "name": n, "section": sec, "created_at": datetime.now(UTC)} for c, n, sec in CATEGORIES])
            batch: list[dict] = []
            for row in rows(args.size, today):
                batch.append(row)
                if len(batch) == 5000:
                    connection.execute(insert(CatalogueItem), batch)
                    batch = []
            if batch:
                connection.execute(insert(CatalogueItem), batch)
            connection.execute(text("ANALYZE"))
        print(f"# loaded {args.size:,} published items in {time.perf_counter() - t0:.1f} s")
        wanted = (args.size // 2) // 3 * 3
        number = f"统发〔{(today - timedelta(days=(wanted * 7919) % (5 * 365))).year}〕{wanted}号"
        shapes = {
            "newest": {},
            "category": {"category": "cat-05"},
            "document_number": {"document_number": number},
            "date range (30 days)": {"date_from": (today - timedelta(days=400)).isoformat(),
                                     "date_to": (today - timedelta(days=370)).isoformat()},
            "category + date range": {"category": "cat-03", "date_from": (today - timedelta(days=800)).isoformat(),
                                      "date_to": (today - timedelta(days=700)).isoformat()},
            "title word": {"title": "农业普查"},
            "title word + category": {"title": "统计年鉴", "category": "cat-07"},
            # Words that match one item or none: a LIKE '%…%' walks the whole date index to find them.
            "title word, one match": {"title": f"第{wanted}号"},
            "title word, no match": {"title": "没有这样的标题"},
        }
        with engine.connect() as connection:
            for name, sql in (("category", "SELECT id FROM catalogue_item WHERE status='published' AND kind='document' "
                                           "AND category_id='cat-05' ORDER BY produced_on DESC, id DESC LIMIT 21"),
                              ("document_number", f"SELECT id FROM catalogue_item WHERE document_number='{number}'")):
                plan = connection.execute(text("EXPLAIN QUERY PLAN " + sql)).fetchall()
                print(f"# plan {name}: {[r[-1] for r in plan]}")
        # The same search in this process (no HTTP): what the query and ORM cost, apart from the server.
        from sqlmodel import Session

        from api.routes.proactive import catalogue_page

        names = {"category": "category_id"}
        for name, params in shapes.items():
            kwargs = {names.get(k, k): (date.fromisoformat(v) if k.startswith("date_") else v) for k, v in params.items()}
            times = []
            with Session(engine) as session:
                for i in range(args.repeat + 1):
                    t0 = time.perf_counter()
                    catalogue_page(session, **kwargs)
                    if i:
                        times.append(time.perf_counter() - t0)
            print(f"    in process           {name:28s} p50 {percentile(times, 50) * 1e3:7.1f} ms  "
                  f"p95 {percentile(times, 95) * 1e3:7.1f} ms", flush=True)
        engine.dispose()
        port = free_port()
        s.api(app_env(s.temporal(), url, free_port(), s.workdir, "bench-catalogue"), port)
        results = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            first = http.get("/api/v1/catalogue").json()
            shapes["second page (cursor)"] = {"cursor": first["next_cursor"]}
            for name, params in shapes.items():
                for path in ("/api/v1/catalogue", "/catalogue"):
                    times = []
                    for i in range(args.repeat + 1):
                        t0 = time.perf_counter()
                        response = http.get(path, params=params)
                        elapsed = time.perf_counter() - t0
                        assert response.status_code == 200, response.text[:300]
                        if i:
                            times.append(elapsed)
                    found = len(http.get("/api/v1/catalogue", params=params).json()["items"])
                    results.append((name, path, percentile(times, 50), percentile(times, 95), found))
                    print(f"    {path:20s} {name:28s} p50 {percentile(times, 50) * 1e3:7.1f} ms  "
                          f"p95 {percentile(times, 95) * 1e3:7.1f} ms  rows on page {found}", flush=True)
    print()
    print(f"RESULT catalogue search at {args.size:,} published items (SQLite, one uvicorn worker, 20 a page; target p95 < 100 ms)")
    print("| shape | path | p50 ms | p95 ms | rows | p95 < 100 ms |")
    print("|---|---|---|---|---|---|")
    for name, path, p50, p95, found in results:
        print(f"| {name} | {path} | {p50 * 1e3:.1f} | {p95 * 1e3:.1f} | {found} | {'yes' if p95 < 0.1 else 'NO'} |")
    print(f"  machine at the end: {load()}")
    print(f"  reproduce: {command_line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
