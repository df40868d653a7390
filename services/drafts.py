"""Issue 23 point 2: a staff form sent after the log-in expired is kept, not lost.

Before, the typed 拟办意见 was gone and the person ended on `{"detail":"不支持此请求方式"}`. Now the form's
fields are saved under a random id (unguessable: 256 bits), the log-in page says "登录已过期" and carries the
id, and after log-in the person is back on the page they were on with the form filled in again, to check
and send. A draft is taken once (deleted when restored) and none is kept longer than a day.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

from sqlalchemy import Engine, delete, insert, select

from core import clock
from db.models_security import PageDraft

KEPT_FOR = timedelta(days=1)
MAX_FIELDS_BYTES = 200_000
TABLE = PageDraft.__table__  # type: ignore[attr-defined]


def save_draft(engine: Engine, page: str, action: str, fields: dict[str, str | list[str]]) -> str | None:
    """The new draft's id; None when there is nothing typed or it is too large to keep."""
    if not any((v if isinstance(v, str) else "".join(v)).strip() for v in fields.values()):
        return None
    data = json.dumps(fields, ensure_ascii=False)
    if len(data.encode()) > MAX_FIELDS_BYTES:
        return None
    draft_id = secrets.token_urlsafe(32)
    now = clock.now()
    with engine.begin() as connection:
        connection.execute(delete(TABLE).where(TABLE.c.created_at < now - KEPT_FOR))
        connection.execute(insert(TABLE).values(id=draft_id, page=page[:500], action=action[:100], fields=data,
                                                created_at=now))
    return draft_id


def take_draft(engine: Engine, draft_id: str, page: str) -> tuple[str, dict] | None:
    """(action, fields) of the draft for this page, deleted as it is taken; None if none (or too old)."""
    if not draft_id or len(draft_id) > 64:
        return None
    with engine.begin() as connection:
        row = connection.execute(select(TABLE).where(TABLE.c.id == draft_id)).mappings().first()
        if row is None or row["page"] != page:
            return None
        connection.execute(delete(TABLE).where(TABLE.c.id == draft_id))
    created = row["created_at"]
    if created is not None and created < clock.now() - KEPT_FOR:
        return None
    return row["action"], json.loads(row["fields"])
