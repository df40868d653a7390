"""Issue 23 point 8: per-account lockout with backoff, the admin told and able to unlock, both in the audit trail;
the per-address limit kept (test_security.test_flooding_is_429_and_oversized_bodies_are_413).

Before, eleven wrong passwords for one account were followed at once by a working log-in."""

import uuid
from datetime import timedelta

from sqlmodel import Session, col, select

from db.models_security import AuditEvent
from services.lockout import FIRST_LOCK, LOCK_AFTER, LONGEST_LOCK, lock_length
from tests.helpers import TEST_PASSWORD, add_staff


async def log_in(api, username: str, password: str):
    return await api.post("/api/v1/auth/token", data={"username": username, "password": password})


def audit_actions(api, since: int) -> list[str]:
    with Session(api.app.state.engine) as session:
        return [e.action for e in session.exec(select(AuditEvent).where(col(AuditEvent.seq) > since)
                                               .order_by(col(AuditEvent.seq))).all()]


def last_seq(api) -> int:
    with Session(api.app.state.engine) as session:
        return max([e.seq for e in session.exec(select(AuditEvent)).all()] or [0])


def test_each_lock_after_the_first_is_twice_as_long_up_to_an_hour():
    assert [lock_length(n) for n in range(1, LOCK_AFTER)] == [None] * (LOCK_AFTER - 1)
    assert [lock_length(LOCK_AFTER + k) for k in range(4)] == [FIRST_LOCK, FIRST_LOCK * 2, FIRST_LOCK * 4, FIRST_LOCK * 8]
    assert lock_length(LOCK_AFTER + 30) == LONGEST_LOCK == timedelta(hours=1)


async def test_repeated_wrong_passwords_lock_the_account_until_an_admin_unlocks_it(api):
    name = add_staff(api, f"guessed-{uuid.uuid4().hex[:6]}", ["registrar"], None)
    before = last_seq(api)
    answers = [(await log_in(api, name, f"wrong-{n}")).status_code for n in range(LOCK_AFTER)]
    assert answers == [401] * (LOCK_AFTER - 1) + [429]
    right = await log_in(api, name, TEST_PASSWORD)  # even the right password, while locked
    assert right.status_code == 429 and "暂时锁定" in right.json()["detail"] and right.headers["retry-after"]
    # another account from the same address is not affected
    assert (await log_in(api, "desk-chen", TEST_PASSWORD)).status_code == 200

    # the admin is told (the list of locked accounts) ...
    locked = await api.get("/api/v1/admin/locked", headers=api.as_user("admin"))
    assert locked.status_code == 200, locked.text
    mine = [a for a in locked.json() if a["username"] == name]
    assert mine and mine[0]["failures"] == LOCK_AFTER and mine[0]["locked_until"]
    assert (await api.get("/api/v1/admin/locked", headers=api.as_user("desk-chen"))).status_code == 403
    # ... and unlocks it; a second unlock has nothing to do
    unlocked = await api.post(f"/api/v1/admin/users/{name}/unlock", headers=api.as_user("admin"))
    assert unlocked.status_code == 200, unlocked.text
    assert (await api.post(f"/api/v1/admin/users/{name}/unlock", headers=api.as_user("admin"))).status_code == 409
    assert (await log_in(api, name, TEST_PASSWORD)).status_code == 200
    assert not [a for a in (await api.get("/api/v1/admin/locked", headers=api.as_user("admin"))).json()
                if a["username"] == name]

    trail = audit_actions(api, before)
    assert any(a.startswith(f"账户锁定：连续 {LOCK_AFTER} 次密码错误") for a in trail), trail
    assert f"解除账户锁定：{name}" in trail


async def test_a_right_password_before_the_lock_clears_the_count(api):
    name = add_staff(api, f"careful-{uuid.uuid4().hex[:6]}", ["registrar"], None)
    for _ in range(2):
        for n in range(LOCK_AFTER - 1):
            assert (await log_in(api, name, f"wrong-{n}")).status_code == 401
        assert (await log_in(api, name, TEST_PASSWORD)).status_code == 200
