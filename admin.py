"""Admin commands.

  python admin.py create-admin --username NAME [--full-name ...]
      the first administrator; the password comes from DISCLOSURE_ADMIN_PASSWORD or a prompt, never argv
  python admin.py create-agency --code CODE --name NAME --admin-username USER [--region ...]
      a new agency on the platform (issue 25) and its first administrator (password as create-admin's)
  python admin.py create-oversight --username NAME
      an account of the platform's 政府信息公开工作主管部门: every agency's figures and the consolidated report
  python admin.py verify-audit
      checks the audit trail's hash chain; names the first altered, missing or re-linked row (exit 1)
  python admin.py publish-calendar --year 2027 --file 2027.json --by NAME
  python admin.py backfill-report-records
      writes the report-grade record of applications that ended before those records existed

The file holds the State Council's schedule for the year:
{"holidays": ["2027-01-01", ...], "makeup_workdays": ["2027-02-07", ...], "source": "国办发明电〔2026〕X号"}
It is stored, and every open application recomputes its due date, exactly as the API's
PUT /api/v1/calendar/years/{year} does (both call services/calendar.py); running API processes
load it within DISCLOSURE_CALENDAR_REFRESH_SECONDS (5 s), and before any registration.
"""

import argparse
import asyncio
import getpass
import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from services.accounts import AccountError, create_user, list_users
from core.security import password_problem
from services.audit import verify_audit
from core.config import get_settings
from core.temporal import connect
from db import tenancy
from db.session import init_db, make_engine
from services.agencies import AgencyError, create_agency, ensure_first_agency
from services.calendar import CalendarError, InvalidSchedule, parse_schedule, publish_year


async def publish_calendar(year: int, file: Path, by: str) -> int:
    try:
        schedule = parse_schedule(year, json.loads(file.read_text(encoding="utf-8")))
    except (ValueError, OSError, InvalidSchedule) as err:
        print(f"Cannot read {file}: {err}", file=sys.stderr)
        return 2
    settings = get_settings()
    engine = make_engine(settings.database_url)
    init_db(engine)
    try:
        client = await connect(settings)
        published = await publish_year(schedule, engine=engine, client=client, settings=settings, published_by=by)
    except CalendarError as err:
        print(err, file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"Published {year}: calendar {published.calendar_version}; "
          f"open applications are told by workflow {published.broadcast_id}; "
          f"running API processes pick it up within {settings.calendar_refresh_seconds:g} s")
    return 0


def _engine():
    settings = get_settings()
    engine = make_engine(settings.database_url)
    init_db(engine)
    ensure_first_agency(engine, settings)  # issue 25: the installation's own agency owns what is made here
    return engine


def _new_password() -> str | None:
    password = os.environ.get("DISCLOSURE_ADMIN_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            print("Set DISCLOSURE_ADMIN_PASSWORD or run in a terminal to be asked for the password.", file=sys.stderr)
            return None
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password again: "):
            print("The passwords differ.", file=sys.stderr)
            return None
    return password


def _create_account(username: str, full_name: str, roles: list[str], *, agency: dict | None = None) -> int:
    """One staff account with the password from DISCLOSURE_ADMIN_PASSWORD or the terminal; with `agency` (the
    arguments of services.agencies.create_agency), that agency first, the account its own (issue 25)."""
    password = _new_password()
    if password is None:
        return 2
    engine = _engine()
    try:
        with Session(engine) as session:
            made = create_agency(session, **agency) if agency else None
            named = (made.code, made.name) if made else None
            with tenancy.acting_for(made.code if made else tenancy.FIRST_AGENCY):
                create_user(session, username=username, password=password, roles=roles, full_name=full_name)
                session.commit()
    except (AgencyError, AccountError) as err:
        print(err, file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"Agency {named[0]} ({named[1]}) created with its administrator {username}." if named
          else f"Account {username} ({', '.join(roles)}) created.")
    return 0


def create_agency_command(code: str, name: str, region: str, admin_username: str, full_name: str) -> int:
    """Issue 25: a new agency on the platform and its first administrator (who then creates its staff through
    POST /api/v1/admin/users: they belong to it). The platform administrator reads no applications here."""
    return _create_account(admin_username, full_name, ["admin"], agency={"code": code, "name": name, "region": region})


def create_oversight(username: str, full_name: str) -> int:
    """Issue 25 point 5: an account of the platform's 政府信息公开工作主管部门 (every agency's figures, no case files)."""
    return _create_account(username, full_name, ["oversight"])


def create_admin(username: str, full_name: str) -> int:
    return _create_account(username, full_name, ["admin"])


@dataclass(frozen=True)
class FirstAdmin:
    username: str
    password: str | None  # shown once when generated; None when the person typed it or it came from the env


FIRST_ADMIN_USERNAME = "admin"


def ensure_first_admin(engine, *, interactive: bool, username: str = FIRST_ADMIN_USERNAME) -> FirstAdmin | None:
    """On a database with no staff account at all, create the first administrator (run.py, every start).

    The password: DISCLOSURE_ADMIN_PASSWORD if set; asked for at a terminal (empty = generate one);
    otherwise a random one, returned so the caller prints it once. Nothing happens once any account exists.
    """
    with Session(engine) as session:
        if list_users(session):
            return None
    password = os.environ.get("DISCLOSURE_ADMIN_PASSWORD") or None
    shown = None
    if password is None and interactive:
        password = _ask_password(username)
    if password is None:
        password = shown = secrets.token_urlsafe(12)  # 16 characters
    with Session(engine) as session:
        if list_users(session):  # another process created one meanwhile
            return None
        create_user(session, username=username, password=password, roles=["admin"], full_name="管理员")
        session.commit()
    return FirstAdmin(username=username, password=shown)


def _ask_password(username: str) -> str | None:
    print(f"No staff account yet: creating the first administrator, user name {username!r}.")
    while True:
        password = getpass.getpass("Password (at least 12 characters; empty = generate one): ")
        if not password:
            return None
        if problem := password_problem(password):
            print(problem)
            continue
        if password == getpass.getpass("Password again: "):
            return password
        print("The passwords differ.")


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
    oversight = commands.add_parser("create-oversight", help="an account of the platform's 主管部门 (figures only)")
    oversight.add_argument("--username", required=True)
    oversight.add_argument("--full-name", default="")
    agency = commands.add_parser("create-agency", help="add an agency to the platform with its first administrator")
    agency.add_argument("--code", required=True, help="2-20 lowercase letters, digits or hyphens (in its numbers)")
    agency.add_argument("--name", required=True)
    agency.add_argument("--region", default="")
    agency.add_argument("--admin-username", required=True)
    agency.add_argument("--admin-full-name", default="")
    commands.add_parser("backfill-report-records", help="report-grade records of applications ended before they existed")
    args = parser.parse_args()
    if args.command == "backfill-report-records":
        return backfill_report_records()
    if args.command == "create-oversight":
        return create_oversight(args.username, args.full_name)
    if args.command == "create-agency":
        return create_agency_command(args.code, args.name, args.region, args.admin_username, args.admin_full_name)
    if args.command == "create-admin":
        return create_admin(args.username, args.full_name)
    if args.command == "verify-audit":
        return verify_audit_trail()
    return asyncio.run(publish_calendar(args.year, args.file, args.by))


if __name__ == "__main__":
    code = main()
    # The Temporal client's native runtime keeps threads that can abort the interpreter's finalization
    # (seen: "PyGILState_Release ... finalizing") and turn a done publication into a failed exit code:
    # everything is written and flushed here, so leave without finalizing.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)
