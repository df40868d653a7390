"""The public catalogue's title search (db.proactive_repository.search_catalogue) on the migrated
schema: a word matching few items is found through the trigram index (SQLite FTS5 table kept by
triggers; PostgreSQL pg_trgm), a common one through the newest-first walk; both give the same rows."""

import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlmodel import Session

from db import proactive_repository as repo
from db.models_proactive import CatalogueItem


def _item(title: str, n: int, **overrides) -> CatalogueItem:
    now = datetime(2026, 5, 1, 8, 0).astimezone()
    return CatalogueItem(**{
        "id": f"ML-T-{uuid.uuid4().hex[:10]}", "kind": "document", "title": title, "category_id": "search-test",
        "section": "综合统计科", "produced_on": date(2026, 5, 1) - timedelta(days=n), "status": "published",
        "version": 1, "due_at": now, "published_at": now, "url": "/gk/x.html", "content_sha256": "0" * 64,
        "history": [], "created_by": "test"} | overrides)


def _titles(engine, word: str) -> list[str]:
    with Session(engine) as session:
        return [r.title for r in repo.search_catalogue(session, title=word, category_id="search-test", limit=50)[0]]


@pytest.mark.parametrize("few", [200, 1], ids=["through-the-index", "common-word-walk"])
def test_title_search_finds_rare_and_common_words_and_follows_changes(engine, monkeypatch, few):
    monkeypatch.setattr(repo, "FEW_MATCHES", few)
    token = uuid.uuid4().hex[:8]
    rows = [_item(f"{token}农业普查公报", 1), _item(f"{token}农业普查年鉴", 2), _item(f"{token}能源消费%\"情况", 3),
            _item(f"{token}撤下的农业普查", 4, status="withdrawn")]
    with Session(engine) as session:
        session.add_all(rows)
        session.commit()
        ids = [r.id for r in rows]
    assert _titles(engine, f"{token}农业普查") == [f"{token}农业普查公报", f"{token}农业普查年鉴"]
    assert [t for t in _titles(engine, "普查年鉴") if token in t] == [f"{token}农业普查年鉴"]  # inside a title
    assert _titles(engine, f"{token}能源消费%\"") == [f"{token}能源消费%\"情况"]
    assert _titles(engine, f"{token}没有") == []
    # Two characters, below a trigram: LIKE alone, the same answer.
    assert [t for t in _titles(engine, "普查") if token in t] == [f"{token}农业普查公报", f"{token}农业普查年鉴"]

    with Session(engine) as session:  # a changed title is found by its new words only
        row = session.get(CatalogueItem, ids[0])
        row.title = f"{token}工业增加值"
        session.add(row)
        session.commit()
        session.delete(session.get(CatalogueItem, ids[1]))
        session.commit()
    assert _titles(engine, f"{token}农业普查") == []
    assert _titles(engine, f"{token}工业增加") == [f"{token}工业增加值"]
