"""A year of applications with known outcomes, written straight into a database (issue 14's counting tests).

`Synthetic` rows go into `application` (as intake writes them) and, for concluded ones, into
`application_report_record` (as the workflow's `record_report_outcome` activity writes them). The
expected table 三 is computed here independently, row by row, from the same list.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session

from contracts.models import ApplicationRecord, ItemRecord
from db import repository
from db.reports_repository import insert_report_record
from outcomes import OutcomeCode
from reports.annual import application_outcome
from reports.records import ItemOutcome, ReportRecordInput

TYPES = ("natural-person", "enterprise", "research-institution", "public-interest-org", "legal-service", "other-org")


@dataclass
class Synthetic:
    application_id: str
    received_on: date
    applicant_type: str
    concluded_on: date | None = None
    items: list[OutcomeCode] = field(default_factory=list)
    ending: str = "replied"
    department: str = "综合统计科"
    handler: str = "wang"
    due_on: date | None = None
    extended: bool = False
    review_returns: int = 0
    with_application_row: bool = True

    @property
    def outcome(self) -> OutcomeCode | None:
        return application_outcome(self.items) if self.items else None

    @property
    def on_time(self) -> bool | None:
        if self.ending == "withdrawn" or self.concluded_on is None:
            return None
        return self.concluded_on <= (self.due_on or self.concluded_on)


def store(engine, rows: list[Synthetic]) -> None:
    with Session(engine) as session:
        applications = [(ApplicationRecord(
            application_id=r.application_id, received_on=r.received_on, channel="online", applicant_name="申请人",
            applicant_type=r.applicant_type, delivery_method="email", policy="local",
            status="closed" if r.concluded_on else "handling", handler=r.handler, department=r.department,
            due_on=r.due_on or r.received_on + timedelta(days=21), extended=r.extended,
            items=[ItemRecord(item_no=1, description="某政府信息")]), []) for r in rows if r.with_application_row]
        repository.insert_applications_if_absent(session, applications)
        for r in rows:
            if r.concluded_on is None:
                continue
            insert_report_record(session, ReportRecordInput(
                application_id=r.application_id, ending=r.ending, received_on=r.received_on,
                applicant_type=r.applicant_type, department=r.department, handler=r.handler,
                replied_on=None if r.ending == "withdrawn" else r.concluded_on, concluded_on=r.concluded_on,
                outcome=r.outcome, items=[ItemOutcome(item_no=n, outcome=o) for n, o in enumerate(r.items, start=1)],
                due_on=r.due_on or r.received_on + timedelta(days=21), on_time=r.on_time, extended=r.extended,
                review_returns=r.review_returns, signed_by="chief-liu" if r.ending == "replied" else None))
        session.commit()


def expected_table3(rows: list[Synthetic], year: int) -> dict[str, dict[str, int]]:
    """Table 三 computed the plain way: each application classified by its own dates."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    table: dict[str, dict[str, int]] = {}

    def add(row: str, column: str) -> None:
        cells = table.setdefault(row, {t: 0 for t in (*TYPES, "total")})
        cells[column] += 1
        cells["total"] += 1

    for r in rows:
        open_at = lambda day: r.received_on <= day and (r.concluded_on is None or r.concluded_on > day)  # noqa: E731
        if start <= r.received_on <= end:
            add("new", r.applicant_type)
        if r.received_on < start and (r.concluded_on is None or r.concluded_on >= start):
            add("carried-in", r.applicant_type)
        if r.concluded_on is not None and start <= r.concluded_on <= end:
            add(str(r.outcome), r.applicant_type)
            add("results-total", r.applicant_type)
        if open_at(end):
            add("carried-out", r.applicant_type)
    return table


def a_year(year: int, prefix: str) -> list[Synthetic]:
    """Every column × every outcome row (with different counts per cell), carry-over in and out,
    withdrawals, abandonments, partly-disclosed mixtures, and applications outside the year."""
    rows: list[Synthetic] = []
    n = 0

    def new_id() -> str:
        nonlocal n
        n += 1
        return f"{prefix}-{year}-{n:06d}"

    outcomes = list(OutcomeCode)
    for t_index, applicant_type in enumerate(TYPES):
        for o_index, outcome in enumerate(outcomes):
            for k in range((t_index + o_index) % 3 + 1):
                received = date(year, 1 + (o_index % 11), 1 + k)
                ending = "withdrawn" if outcome == OutcomeCode.OTHER else (
                    "abandoned" if outcome == OutcomeCode.OTHER_NO_SUPPLEMENT else "replied")
                rows.append(Synthetic(new_id(), received, applicant_type, received + timedelta(days=20 + k),
                                      [outcome], ending=ending, due_on=received + timedelta(days=21 + (k % 2) * -5),
                                      department=("综合统计科", "执法监督科")[k % 2], handler=("wang", "li")[k % 2],
                                      extended=k == 2, review_returns=k))
        # Mixtures: disclosed + withheld -> 部分公开 only; withheld + unavailable -> the first in report order.
        rows.append(Synthetic(new_id(), date(year, 6, 1), applicant_type, date(year, 6, 20),
                              [OutcomeCode.DISCLOSED, OutcomeCode.WITHHELD_THIRD_PARTY]))
        rows.append(Synthetic(new_id(), date(year, 6, 2), applicant_type, date(year, 6, 21),
                              [OutcomeCode.UNAVAILABLE_NOT_HELD, OutcomeCode.WITHHELD_PROCESS_INFO]))
        # Carried over from the previous year, concluded this year; and still open at the end.
        for k in range(t_index % 2 + 1):
            rows.append(Synthetic(new_id(), date(year - 1, 12, 20), applicant_type, date(year, 1, 10 + k),
                                  [OutcomeCode.DISCLOSED]))
        rows.append(Synthetic(new_id(), date(year - 1, 12, 28), applicant_type))
        # Received and concluded last year: nowhere in this year's report.
        rows.append(Synthetic(new_id(), date(year - 1, 5, 1), applicant_type, date(year - 1, 5, 20), [OutcomeCode.DISCLOSED]))
        # Carried forward: received this year, open at 31 December or concluded next year.
        rows.append(Synthetic(new_id(), date(year, 12, 20), applicant_type))
        for k in range(t_index % 3):
            rows.append(Synthetic(new_id(), date(year, 12, 15), applicant_type, date(year + 1, 1, 8),
                                  [OutcomeCode.PARTLY_DISCLOSED]))
        # Next year's application: nowhere.
        rows.append(Synthetic(new_id(), date(year + 1, 1, 3), applicant_type))
    return rows


def png_of_first_page(pdf: bytes, directory) -> list:
    """Render every page with pdftoppm (poppler-utils) and return the PNG paths."""
    import subprocess

    source = directory / "report.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(source), str(directory / "page")], check=True, timeout=120)
    return sorted(directory.glob("page*.png"))


def workbook(data: bytes):
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
