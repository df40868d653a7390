"""Issue 23 point 8: an account is locked after repeated wrong passwords, longer each time; an admin is told and
may unlock it; the audit trail records both.

Before, eleven wrong passwords for one account were followed at once by a working log-in: only the per-address
rate limit (api.security.rate_limited, kept) slowed a guesser, and another address could go on guessing. Now
LOCK_AFTER consecutive wrong passwords for an account lock it for FIRST_LOCK; each further wrong password after
a lock doubles it, up to LONGEST_LOCK (等保 2.0 身份鉴别: 登录失败处理, 限制非法登录次数). While locked, even the right
password is refused; a right password after the lock ends, or an admin's unlock, clears the count. A name that is
no account is counted the same way, so the answer says nothing about which names exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select

from clock import SHANGHAI
from core import clock
from db.models_security import LoginFailure, StaffUser
from services.audit import append_audit

LOCK_AFTER = 5
FIRST_LOCK = timedelta(minutes=1)
LONGEST_LOCK = timedelta(hours=1)
TABLE = LoginFailure.__table__  # type: ignore[attr-defined]


def lock_length(failures: int) -> timedelta | None:
    """How long `failures` consecutive wrong passwords lock an account (None: not yet)."""
    if failures < LOCK_AFTER:
        return None
    return min(FIRST_LOCK * 2 ** (failures - LOCK_AFTER), LONGEST_LOCK)


def locked_until(engine: Engine, username: str) -> datetime | None:
    """The end of the account's lock, if it is locked now."""
    with engine.connect() as connection:
        until = connection.execute(select(TABLE.c.locked_until).where(TABLE.c.username == username)).scalar()
    return until if until is not None and until > clock.now() else None


def record_failure(engine: Engine, username: str, *, client: str = "") -> datetime | None:
    """One more wrong password; the end of the lock it causes (None: not locked). A lock is audited."""
    now = clock.now()
    with engine.begin() as connection:
        row = connection.execute(select(TABLE).where(TABLE.c.username == username).with_for_update()).mappings().first()
        failures = (row["failures"] if row else 0) + 1
        length = lock_length(failures)
        until = now + length if length else None
        values = {"failures": failures, "locked_until": until, "last_failure_at": now}
        if row is None:
            connection.execute(TABLE.insert().values(username=username, **values))
        else:
            connection.execute(TABLE.update().where(TABLE.c.username == username).values(**values))
    if until is not None:
        minutes = max(1, round(length.total_seconds() / 60))
        append_audit(engine, actor=username, role="login", action=(
            f"账户锁定：连续 {failures} 次密码错误，锁定 {minutes} 分钟（至北京时间 {until.astimezone(SHANGHAI):%Y-%m-%d %H:%M}）"),
            application_id=None, status_code=423, client=client)
    return until


def record_success(engine: Engine, username: str) -> None:
    with engine.begin() as connection:
        connection.execute(delete(TABLE).where(TABLE.c.username == username))


def unlock(engine: Engine, username: str, *, by: str, client: str = "") -> bool:
    """An admin's unlock: the count is cleared; False if the account was not locked or counting. Audited."""
    with engine.begin() as connection:
        gone = connection.execute(delete(TABLE).where(TABLE.c.username == username)).rowcount
    if gone:
        append_audit(engine, actor=by, role="admin", action=f"解除账户锁定：{username}", application_id=None,
                     status_code=200, client=client)
    return bool(gone)


@dataclass(frozen=True)
class Locked:
    username: str
    full_name: str
    failures: int
    locked_until: datetime | None  # None: the lock has ended, the count stands until a right password
    last_failure_at: datetime


def locked_accounts(engine: Engine) -> list[Locked]:
    """The staff accounts locked now or since their last log-in (what the admin is told about), newest first."""
    staff = StaffUser.__table__  # type: ignore[attr-defined]
    now = clock.now()
    with engine.connect() as connection:
        rows = connection.execute(
            select(TABLE, staff.c.full_name).join(staff, staff.c.username == TABLE.c.username)
            .where(TABLE.c.failures >= LOCK_AFTER).order_by(TABLE.c.last_failure_at.desc())).mappings().all()
    return [Locked(r["username"], r["full_name"] or "", r["failures"],
                   r["locked_until"] if r["locked_until"] and r["locked_until"] > now else None, r["last_failure_at"])
            for r in rows]
