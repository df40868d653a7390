"""The agencies on the platform (issue 25, RULES §12): the first one from the settings, others created by the
platform administrator (`python admin.py create-agency`), the public list, and what registration needs to know."""

from __future__ import annotations

import re

from sqlalchemy import Engine, or_
from sqlmodel import Session, col, select

from core.config import PAYMENT_CHANNELS, Settings
from db import tenancy
from db.models_agency import AGENCY_NUMBER_PATTERN, FIRST_AGENCY_NUMBER_PATTERN, Agency

CODE = re.compile(tenancy.AGENCY_CODE_PATTERN)


class AgencyError(ValueError):
    """A refused agency change; the message is for the administrator (Chinese)."""


def first_agency_record(settings: Settings) -> Agency:
    """The single-agency installation's settings as its agency record (its numbers unchanged: issue 25 point 6)."""
    return Agency(
        code=settings.agency_code, name=settings.agency_name, region=settings.agency_region,
        number_prefix=settings.application_number_prefix, number_pattern=FIRST_AGENCY_NUMBER_PATTERN,
        document_number_prefix=settings.document_number_prefix, reply_period=settings.reply_period_profile,
        reconsideration_body=settings.reconsideration_body, court=settings.court, complaint_body=settings.complaint_body,
        fee_payment_channel=settings.fee_payment_channel, fee_payment_text=settings.fee_payment_text,
        mail_sender=settings.smtp_sender,
    )


def ensure_first_agency(engine: Engine, settings: Settings) -> None:
    """At start (API, worker, admin): the first agency is the settings' (kept in step with them: the settings stay
    the single-agency installation's way to configure it), and rows written outside a request belong to it."""
    tenancy.configure(settings.agency_code)
    wanted = first_agency_record(settings)
    with Session(engine) as session, tenancy.all_agencies():
        kept = session.get(Agency, settings.agency_code)
        if kept is None:
            session.add(wanted)
        else:
            for name, value in wanted.model_dump(exclude={"code", "created_at", "catalogue_sections", "active"}).items():
                setattr(kept, name, value)
        session.commit()


def create_agency(session: Session, *, code: str, name: str, region: str = "", number_prefix: str = "GK",
                  document_number_prefix: str = "", **profile) -> Agency:
    code = code.strip().lower()
    if not CODE.fullmatch(code):
        raise AgencyError(f"机关代码 {code!r} 不符合要求：2 至 20 位小写字母、数字或连字符，以字母或数字开头")
    if not name.strip():
        raise AgencyError("机关名称不能为空")
    if session.get(Agency, code) is not None:
        raise AgencyError(f"机关代码 {code} 已存在")
    if session.exec(select(Agency).where(Agency.name == name.strip())).first() is not None:
        raise AgencyError(f"机关 {name.strip()} 已在平台上")
    agency = Agency(code=code, name=name.strip(), region=region.strip(), number_prefix=number_prefix,
                    number_pattern=AGENCY_NUMBER_PATTERN, document_number_prefix=document_number_prefix or name.strip()[:2],
                    **profile)
    session.add(agency)
    session.flush()
    return agency


def list_agencies(engine: Engine, q: str | None = None) -> list[Agency]:
    """The active agencies, by region and name; `q` matches the name or the region."""
    statement = select(Agency).where(col(Agency.active)).order_by(Agency.region, Agency.name)
    if q:
        like = f"%{q.strip()}%"
        statement = statement.where(or_(col(Agency.name).like(like), col(Agency.region).like(like)))
    with Session(engine) as session:
        return list(session.exec(statement).all())


def get_agency(engine: Engine, code: str) -> Agency | None:
    with Session(engine) as session:
        return session.get(Agency, code)


def agency_of_application(engine: Engine, application_id: str) -> str | None:
    """The agency an application belongs to, whoever asks (the isolation guard's lookup: api/tenancy.py)."""
    from db.models import Application

    with Session(engine) as session, tenancy.all_agencies():
        return session.exec(select(Application.agency).where(Application.id == application_id)).first()


def agency_of_user(engine: Engine, username: str) -> str | None:
    from db.models_security import StaffUser

    with Session(engine) as session, tenancy.all_agencies():
        return session.exec(select(StaffUser.agency).where(StaffUser.username == username)).first()


class AgencyProfiles:
    """The agency a letter is written for, by its application (issue 25: each agency's own 文号 prefix, remedy bodies,
    payment channel and sender). For the workers' letters; an application's agency never changes, so it is kept."""

    REFRESH_SECONDS = 30.0

    def __init__(self, engine: Engine) -> None:
        import threading

        self._engine = engine
        self._owners: dict[str, str | None] = {}
        self._agencies: dict[str, tuple[float, Agency | None]] = {}
        self._lock = threading.Lock()

    def of(self, agency: str | None, application_id: str) -> Agency | None:
        """The agency named (a letter's input carries it), else the application's."""
        return self.for_code(agency) if agency else self.for_application(application_id)

    def for_code(self, code: str | None) -> Agency | None:
        import time

        if code is None or code == tenancy.FIRST_AGENCY:
            return None
        with self._lock:
            kept = self._agencies.get(code)
        if kept is None or time.monotonic() - kept[0] > self.REFRESH_SECONDS:
            kept = (time.monotonic(), get_agency(self._engine, code))
            with self._lock:
                self._agencies[code] = kept
        return kept[1]

    def for_application(self, application_id: str) -> Agency | None:
        """The agency of the application (or of the application a consultation or letter key starts with); None for
        the installation's first agency or an id that is no application's (corrections, 政务公开): the settings'."""
        application_id = application_id.split(":")[0].split(".")[0]
        with self._lock:
            known = application_id in self._owners
            code = self._owners.get(application_id)
        if not known:
            code = agency_of_application(self._engine, application_id)
            if code is not None:
                with self._lock:
                    if len(self._owners) > 100_000:
                        self._owners.clear()
                    self._owners[application_id] = code
        return self.for_code(code)


def payment_channel_line(agency: Agency) -> str | None:
    """The fee notice's 缴纳方式 sentence for the agency (as core.config.Settings.payment_channel_line)."""
    if not agency.fee_payment_channel or not (agency.fee_payment_text or "").strip():
        return None
    return f"{PAYMENT_CHANNELS.get(agency.fee_payment_channel, agency.fee_payment_channel)}，{agency.fee_payment_text.strip()}"
