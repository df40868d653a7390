"""Admin commands.

  python admin.py create-admin --username NAME [--full-name ...]
      the first administrator; the password comes from DISCLOSURE_ADMIN_PASSWORD or a prompt, never argv
  python admin.py verify-audit
      checks the audit trail's hash chain; names the first altered, missing or re-linked row (exit 1)
  python admin.py publish-calendar --year 2027 --file 2027.json --by NAME
  python admin.py backfill-report-records
      writes the report-grade record of applications that ended before those records existed

The file holds the State Council's schedule for the year:
{"holidays": ["2027-01-01", ...], "makeup_workdays": ["2027-02-07", ...], "source": "国办发明电〔2026〕X号"}
It is stored, and every open application recomputes its due date, exactly as the API's
PUT /api/v1/calendar/years/{year} does.
"""

import argparse
import asyncio
import getpass
import json
import os
import sys
from pathlib import Path

from fastapi import HTTPException
from sqlmodel import Session

from api.deps import CalendarSource
from api.routes.calendar import publish_year
from api.schemas import CalendarYearIn
from core.accounts import AccountError, create_user
from core.audit import verify_audit
from core.config import get_settings
from core.temporal import connect
from db.session import init_db, make_engine


async def publish_calendar(year: int, file: Path, by: str) -> int:
    settings = get_settings()
    engine = make_engine(settings.database_url)
    init_db(engine)
    try:
        body = CalendarYearIn.model_validate(json.loads(file.read_text(encoding="utf-8")))
    except (ValueError, OSError) as err:
        print(f"Cannot read {file}: {err}", file=sys.stderr)
        return 2
    client = await connect(settings)
    with Session(engine) as session:
        try:
            published = await publish_year(year, body, session, client, settings, CalendarSource(engine), by)
        except HTTPException as err:
            print(err.detail, file=sys.stderr)
            return 2
    print(f"Published {year}: calendar {published.calendar_version}; "
          f"open applications are told by workflow {published.open_applications_notified_by}")
    return 0


def _engine():
    engine = make_engine(get_settings().database_url)
    init_db(engine)
    return engine


def create_admin(username: str, full_name: str) -> int:
    password = os.environ.get("DISCLOSURE_ADMIN_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            print("Set DISCLOSURE_ADMIN_PASSWORD or run in a terminal to be asked for the password.", file=sys.stderr)
            return 2
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password again: "):
            print("The passwords differ.", file=sys.stderr)
            return 2
    engine = _engine()
    try:
        with Session(engine) as session:
            create_user(session, username=username, password=password, roles=["admin"], full_name=full_name)
            session.commit()
    except AccountError as err:
        print(err, file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"Administrator {username} created.")
    return 0


def verify_audit_trail() -> int:
    engine = _engine()
    try:
        check = verify_audit(engine)
    finally:
        engine.dispose()
    if check.ok:
        print(f"Audit trail intact: {check.rows} rows.")
        return 0
    print(f"Audit trail broken at row {check.first_bad_seq}: {check.problem}", file=sys.stderr)
    return 1


def backfill_report_records() -> int:
    from db.reports_repository import backfill_report_records as backfill

    engine = _engine()
    try:
        with Session(engine) as session:
            written, skipped = backfill(session)
            session.commit()
    finally:
        engine.dispose()
    print(f"Report-grade records written: {written}; skipped (no outcome stored): {len(skipped)} {' '.join(skipped[:20])}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    publish = commands.add_parser("publish-calendar", help="publish a year's official holiday schedule")
    publish.add_argument("--year", type=int, required=True)
    publish.add_argument("--file", type=Path, required=True)
    publish.add_argument("--by", required=True, help="who publishes it (recorded)")
    admin = commands.add_parser("create-admin", help="create an administrator (password: env or prompt)")
    admin.add_argument("--username", required=True)
    admin.add_argument("--full-name", default="")
    commands.add_parser("verify-audit", help="verify the audit trail's hash chain")
    commands.add_parser("backfill-report-records", help="report-grade records of applications ended before they existed")
    args = parser.parse_args()
    if args.command == "backfill-report-records":
        return backfill_report_records()
    if args.command == "create-admin":
        return create_admin(args.username, args.full_name)
    if args.command == "verify-audit":
        return verify_audit_trail()
    return asyncio.run(publish_calendar(args.year, args.file, args.by))


if __name__ == "__main__":
    sys.exit(main())
