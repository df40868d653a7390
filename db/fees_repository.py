"""Fee queries and writes (issue 11 point 12): the applicant's applications of a month, the fee records."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, func, select

from db.models import Application, utcnow
from fees.counting import counted_in_month
from db.models_fees import ApplicantIdentity, FeeRecord, normalise_identity
from db.models_reports import ApplicationReportRecord
from db.upsert import insert_statement, sql_dialect, table_of


def identity_rows(applications: Sequence[tuple[str, str | None, date]]) -> list[dict]:
    """(application_id, id_number, received_on) → rows for `applicant_identity` (those with an identity)."""
    return [{"application_id": a, "identity": ident, "received_on": r}
            for a, raw, r in applications if (ident := normalise_identity(raw))]


def insert_identities(session: Session, rows: list[dict]) -> None:
    if rows:
        session.connection().execute(insert_statement(sql_dialect(session), table_of(ApplicantIdentity), ("application_id",)), rows)


@dataclass(frozen=True)
class MonthApplication:
    application_id: str
    received_on: date
    channel: str
    status: str


def month_of(day: date) -> tuple[date, date]:
    start = day.replace(day=1)
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start, end


def applications_in_month_up_to(session: Session, application_id: str) -> list[MonthApplication] | None:
    """The same applicant's applications received in this application's calendar month, up to and including it,
    in order of receipt, all channels (办法 art. 4(1)). None: this application has no identity recorded."""
    this = session.get(ApplicantIdentity, application_id)
    if this is None:
        return None
    start, end = month_of(this.received_on)
    i, a = ApplicantIdentity, Application
    rows = session.exec(
        select(i.application_id, i.received_on, a.channel, a.status).join(a, col(a.id) == col(i.application_id))
        .where(i.identity == this.identity, col(i.received_on) >= start, col(i.received_on) < end)
        .order_by(col(i.received_on), col(i.application_id))
    ).all()
    found = {(row[1], row[0]): MonthApplication(*row) for row in rows}
    return [found[r] for r in counted_in_month((this.received_on, application_id), found)]


def save_fee(session: Session, application_id: str, fee: dict) -> None:
    """Upsert the application's fee as the workflow reported it (FeeState)."""
    values = {"application_id": application_id, "standard": fee["standard"], "quantity": fee["quantity"],
              "amount_yuan": fee["amount_yuan"], "decision": fee["decision"], "notice_sent_on": fee.get("notice_sent_on"),
              "pay_by": fee.get("pay_by"), "paid_on": fee.get("paid_on"), "waived": bool(fee.get("waived")),
              "updated_at": utcnow()}
    changed = tuple(k for k in values if k != "application_id")
    session.connection().execute(insert_statement(sql_dialect(session), table_of(FeeRecord), ("application_id",), changed),
                                 values)


def fee_counts(session: Session, start: date, end: date) -> dict[str, int]:
    """The year's fee figures [start, end]: charged (paid) applications and amount, waived, and unpaid (其他处理-2)."""
    f, r = FeeRecord, ApplicationReportRecord
    paid = session.exec(select(func.count(), func.coalesce(func.sum(f.amount_yuan), 0))
                        .where(col(f.paid_on).between(start, end), f.waived == False)).one()  # noqa: E712
    waived = session.exec(select(func.count()).where(col(f.paid_on).between(start, end), f.waived == True)).one()  # noqa: E712
    noticed = session.exec(select(func.count(), func.coalesce(func.sum(f.amount_yuan), 0))
                           .where(col(f.notice_sent_on).between(start, end), f.decision == "approved")).one()
    unpaid = session.exec(select(func.count(), func.coalesce(func.sum(f.amount_yuan), 0))
                          .join(r, col(r.application_id) == col(f.application_id))
                          .where(col(r.concluded_on).between(start, end), r.outcome == "other-2")).one()
    return {"noticed_applications": int(noticed[0]), "noticed_amount_yuan": int(noticed[1]),
            "charged_applications": int(paid[0]), "amount_yuan": int(paid[1]), "waived_applications": int(waived),
            "unpaid_applications": int(unpaid[0]), "unpaid_amount_yuan": int(unpaid[1])}
