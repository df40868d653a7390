"""Issuing a letter (activities/letters.py): the 文号 is reserved first, the PDF rendered outside any transaction."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

import activities.letters as letters_module
from activities.letters import LetterActivities
from contracts.models import IssueLetterInput, Letter
from core.config import Settings
from db import letters_repository as repo
from db.session import session_scope
from letters.documents import pdf_text, render_letter_pdf
from tests.fixtures_db import engine, skip_unless_ci  # noqa: F401

@pytest.fixture(autouse=True)
def _font() -> None:
    """The CJK font comes from `make test`'s system set-up: a skip here, a failure on CI."""
    if not Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc").exists():
        skip_unless_ci("the CJK font (fonts-wqy-zenhei) is missing: `make test` installs it")


def issue_input(n: int) -> IssueLetterInput:
    application_id = f"GK-2026-{n:06d}"
    return IssueLetterInput(
        key=f"{application_id}:acknowledgment", application_id=application_id,
        letter=Letter(kind="acknowledgment", subject=f"政府信息公开申请登记回执（{application_id}）",
                      body=f"张三：\n您的政府信息公开申请（{application_id}）已登记。\n某市统计局\n2026年11月20日"),
        letter_date=date(2026, 11, 20), recipient_name="张三", method="email", email="zhang@example.cn",
    )


@pytest.fixture
def issuer(engine: Engine, tmp_path: Path) -> LetterActivities:  # noqa: F811
    return LetterActivities(engine, Settings(data_dir=tmp_path, database_url=str(engine.url)))


def test_a_letter_issued_while_another_renders_does_not_wait_for_it(issuer: LetterActivities, monkeypatch):
    rendering, finish = threading.Event(), threading.Event()

    def slow_first(body: str, **kwargs) -> bytes:
        if "000001" in body:
            rendering.set()
            assert finish.wait(60)
        return render_letter_pdf(body, **kwargs)

    monkeypatch.setattr(letters_module, "render_letter_pdf", slow_first)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(issuer._issue, issue_input(1))
        assert rendering.wait(60)
        # Before: the first letter's transaction held the counter (on SQLite, the database) while it rendered.
        second = pool.submit(issuer._issue, issue_input(2)).result(timeout=60)
        finish.set()
        first = first.result(timeout=60)

    assert (first.document_number, second.document_number) == ("某统依公回〔2026〕第1号", "某统依公回〔2026〕第2号")
    assert "某统依公回〔2026〕第1号" in pdf_text(issuer.files.get_verified(first.pdf_sha256))


def test_a_retry_after_a_crash_while_rendering_uses_the_reserved_number(issuer: LetterActivities, monkeypatch):
    crash = {"once": True}

    def crashing(body: str, **kwargs) -> bytes:
        if crash.pop("once", False):
            raise MemoryError("the worker died while rendering")
        return render_letter_pdf(body, **kwargs)

    monkeypatch.setattr(letters_module, "render_letter_pdf", crashing)
    with pytest.raises(MemoryError):
        issuer._issue(issue_input(1))
    retried = issuer._issue(issue_input(1))
    again = issuer._issue(issue_input(1))  # a later duplicate attempt: the same document
    following = issuer._issue(issue_input(2))

    assert retried.document_number == again.document_number == "某统依公回〔2026〕第1号"
    assert following.document_number == "某统依公回〔2026〕第2号"  # no gap in the series
    with session_scope(issuer._engine) as session:
        assert repo.get_document(session, issue_input(1).key).pdf_sha256 == retried.pdf_sha256


def test_the_document_number_series_starts_again_each_year(issuer: LetterActivities):
    """The 文号's year is the letter's date's year: the first letter dated in a new year is 第1号 again."""

    def dated(n: int, letter_date: date) -> IssueLetterInput:
        return issue_input(n).model_copy(update={"letter_date": letter_date})

    december = [issuer._issue(dated(n, date(2026, 12, 31))) for n in (1, 2)]
    january = [issuer._issue(dated(n, date(2027, 1, 4))) for n in (3, 4)]
    late_2026 = issuer._issue(dated(5, date(2026, 12, 31)))  # e.g. a retry of a letter dated the old year

    assert [d.document_number for d in december] == ["某统依公回〔2026〕第1号", "某统依公回〔2026〕第2号"]
    assert [d.document_number for d in january] == ["某统依公回〔2027〕第1号", "某统依公回〔2027〕第2号"]
    assert late_2026.document_number == "某统依公回〔2026〕第3号"  # each year's series goes on by itself
    assert "某统依公回〔2027〕第1号" in pdf_text(issuer.files.get_verified(january[0].pdf_sha256))
