"""The Idempotency-Key header (IETF draft "The Idempotency-Key HTTP Header Field"): retried POSTs do nothing twice.

A client sends `Idempotency-Key: "<a random string, e.g. a UUID>"` with a POST under /api/v1. The key
is scoped to who sends it (the staff user of a bearer token, the holder of a query code, or anyone for
the public forms: the key itself must then be unguessable) and the request is fingerprinted (method,
path, query and body; JSON bodies in canonical form):

- same key, same fingerprint, answered before -> the first answer again (status, headers, body), with
  `Idempotent-Replayed: true`; nothing runs;
- same key, another fingerprint -> 422;
- same key while the first request is still running -> 409 with `Retry-After: 1`;
- a key is kept `KEY_TTL` (24 h) from its first use; then it is forgotten.

Kept in the database (db/models_idempotency.py), since API processes scale out. The answer is stored
encrypted under a key derived from the raw Idempotency-Key (never stored): a reader of the table does
not learn the query codes that registrations answered with. Answers that did nothing (401, 403, 429)
free the key; a 5xx or a crash releases it for a retry, which redoes the work with the same Temporal
ids: `run_update` passes an update id derived from the key (Temporal answers a repeated update id with
the first outcome), and starts use ids (or numbers kept in `reserved`) fixed by the key.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import hashlib
import hmac
import json
import logging
import os
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.config import Settings
from core.security import QUERY_CODE_ALPHABET, QUERY_CODE_LENGTH, read_access_token
from db.models import utcnow
from db.models_idempotency import IdempotencyKey
from db.session import write_turn

log = logging.getLogger("disclosure.api.idempotency")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_TTL = timedelta(hours=24)
# A request holds its key this long; if its process dies, a retry may take the key over afterwards.
LEASE = timedelta(minutes=2)
MAX_KEY_LENGTH = 255
SCOPED_PREFIX = "/api/v1/"
# Answers that mean "nothing was done, ask again differently": the key is freed.
NOT_KEPT = frozenset({401, 403, 413, 429})
DROPPED_HEADERS = frozenset({b"content-length", b"date", b"server", b"set-cookie"})

BAD_KEY = "Idempotency-Key 格式不正确：应为 1 至 255 个可见 ASCII 字符（建议使用 UUID）"
MISMATCH = ("此 Idempotency-Key 已用于另一请求（内容不同）：同一键只能重试同一请求，新的请求请使用新的键"
            " (Idempotency-Key reused with a different request)")
IN_FLIGHT = ("使用此 Idempotency-Key 的请求正在办理中，请稍后重试以取得其结果"
             " (a request with this Idempotency-Key is still in progress)")


# --- the request's key, for the routes -----------------------------------------------------------


@dataclass
class Claim:
    """The Idempotency-Key of the request being run (None outside one): ids and reservations derive from it."""

    scope: str  # sha256(principal, key), the row's primary key
    secret: bytes  # derived from the raw key; never stored
    engine: Engine
    epoch: int = 0  # the key's first use (µs): a key used again after it expired derives other ids
    reserved: dict[str, Any] = field(default_factory=dict)
    _updates: dict[tuple[str, str], int] = field(default_factory=dict)

    def update_id(self, workflow_id: str, update_name: str) -> str:
        """The Temporal update id of this request's n-th `update_name` on `workflow_id` (n from 1)."""
        n = self._updates.get((workflow_id, update_name), 0) + 1
        self._updates[(workflow_id, update_name)] = n
        return f"idem-{self.derived_hex('update', 40)}-{update_name}" + (f"-{n}" if n > 1 else "")

    def derived_hex(self, purpose: str, length: int = 10) -> str:
        """Hex digits fixed by the key (e.g. an id suffix): a retry gets the same ones."""
        return hmac.new(self.secret, f"id\n{self.epoch}\n{purpose}".encode(), hashlib.sha256).hexdigest()[:length]

    def query_code(self, application_id: str) -> str:
        """The applicant's query code, fixed by the key: a retried registration answers the same code."""
        message = f"query-code\n{self.epoch}\n{application_id}".encode()
        digest = int.from_bytes(hmac.new(self.secret, message, hashlib.sha256).digest())
        letters = []
        for _ in range(QUERY_CODE_LENGTH):
            digest, i = divmod(digest, len(QUERY_CODE_ALPHABET))
            letters.append(QUERY_CODE_ALPHABET[i])
        return "".join(letters)

    async def reserve(self, name: str, value: Any) -> None:
        """Keep `value` with the key before acting on it: a retry after a failure finds it (`reserved`)."""
        self.reserved[name] = value
        await asyncio.to_thread(store_reserved, self.engine, self.scope, self.reserved)


_current: contextvars.ContextVar[Claim | None] = contextvars.ContextVar("idempotency_claim", default=None)


def current() -> Claim | None:
    return _current.get()


def id_suffix(purpose: str) -> str:
    """10 hex digits for a new workflow's id: fixed by the request's key (a retry starts nothing new), else random."""
    claim = _current.get()
    return claim.derived_hex(f"workflow-id\n{purpose}") if claim else uuid.uuid4().hex[:10]


def update_id(workflow_id: str, update_name: str) -> str | None:
    claim = _current.get()
    return claim.update_id(workflow_id, update_name) if claim else None


# --- keys, principals, fingerprints ---------------------------------------------------------------


def parse_key(raw: str) -> str | None:
    """The key of an `Idempotency-Key` value: an sf-string ("..."), or, leniently, a bare token."""
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if not 1 <= len(value) <= MAX_KEY_LENGTH or not all(32 <= ord(c) < 127 for c in value):
        return None
    return value


def principal_of(headers: dict[bytes, bytes], settings: Settings) -> str:
    """Who the key belongs to. Only proven identities: a forged token or code is just someone else."""
    authorization = headers.get(b"authorization", b"").decode("latin-1")
    if authorization[:7].lower() == "bearer ":
        claims = read_access_token(settings, authorization[7:].strip())
        if claims is not None:
            return f"staff:{claims['sub']}"
        return "bearer:" + hashlib.sha256(authorization.encode()).hexdigest()
    code = headers.get(b"x-query-code")
    if code:
        return "query-code:" + hashlib.sha256(code).hexdigest()
    return "anonymous"


def fingerprint(secret: bytes, method: str, path: str, query: bytes, content_type: bytes, body: bytes) -> str:
    """Keyed (HMAC under the key's secret): the stored fingerprint says nothing about a body (a password)."""
    if content_type.split(b";")[0].strip().lower() == b"application/json":
        try:
            body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        except ValueError:
            pass
    digest = hmac.new(secret, b"fingerprint", hashlib.sha256)
    for part in (method.encode(), path.encode(), query, body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _secret(settings: Settings, principal: str, key: str) -> bytes:
    base = hmac.new(settings.require_jwt_secret(), b"idempotency-key", hashlib.sha256).digest()
    return hmac.new(base, f"{principal}\n{key}".encode(), hashlib.sha256).digest()


def _scope(principal: str, key: str) -> str:
    return hashlib.sha256(f"{principal}\n{key}".encode()).hexdigest()


def _seal(secret: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    plain = json.dumps({"headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in headers],
                        "body": base64.b64encode(body).decode()}).encode()
    nonce = os.urandom(12)
    return nonce + AESGCM(secret).encrypt(nonce, plain, b"idempotency-answer")


def _open(secret: bytes, sealed: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    plain = json.loads(AESGCM(secret).decrypt(sealed[:12], sealed[12:], b"idempotency-answer"))
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in plain["headers"]], base64.b64decode(plain["body"])


# --- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    kind: str  # "run" | "replay" | "mismatch" | "busy"
    status_code: int | None = None
    response: bytes | None = None
    reserved: str | None = None
    epoch: int = 0


def _epoch(created_at) -> int:
    return round(created_at.timestamp() * 1_000_000)


def claim_key(engine: Engine, scope: str, fp: str, method: str, path: str) -> Outcome:
    """Take the key for this request, or say why not (answered before, other request, in flight)."""
    now = utcnow()
    with Session(engine) as session:
        row = session.get(IdempotencyKey, scope)
        if row is not None and row.expires_at <= now:
            with write_turn(engine):
                session.execute(delete(IdempotencyKey).where(col(IdempotencyKey.scope) == scope,
                                                             col(IdempotencyKey.expires_at) <= now))
                session.commit()
            row = None
        if row is None:
            with write_turn(engine):
                session.add(IdempotencyKey(scope=scope, fingerprint=fp, method=method, path=path[:300],
                                           locked_until=now + LEASE, created_at=now, expires_at=now + KEY_TTL))
                try:
                    session.commit()
                    return Outcome("run", epoch=_epoch(now))
                except IntegrityError:
                    session.rollback()
            row = session.get(IdempotencyKey, scope, populate_existing=True)
            if row is None:  # claimed and freed in between: take it next time
                return Outcome("busy")
        if row.fingerprint != fp:
            return Outcome("mismatch")
        if row.status_code is not None:
            return Outcome("replay", row.status_code, row.response)
        if row.locked_until is not None and row.locked_until > now:
            return Outcome("busy")
        with write_turn(engine):  # released (a failure) or its process died: one retry takes it over
            taken = session.execute(update(IdempotencyKey).where(
                col(IdempotencyKey.scope) == scope, col(IdempotencyKey.status_code).is_(None),
                or_(col(IdempotencyKey.locked_until).is_(None), col(IdempotencyKey.locked_until) <= now),
            ).values(locked_until=now + LEASE))
            session.commit()
        if taken.rowcount != 1:
            return Outcome("busy")
        row = session.get(IdempotencyKey, scope, populate_existing=True)
        if row is None:
            return Outcome("busy")
        return Outcome("run", reserved=row.reserved, epoch=_epoch(row.created_at))


def store_reserved(engine: Engine, scope: str, reserved: dict[str, Any]) -> None:
    with write_turn(engine), Session(engine) as session:
        session.execute(update(IdempotencyKey).where(col(IdempotencyKey.scope) == scope).values(
            reserved=json.dumps(reserved, ensure_ascii=False)))
        session.commit()


def _finish(engine: Engine, scope: str, status_code: int, sealed: bytes) -> None:
    with write_turn(engine), Session(engine) as session:
        session.execute(update(IdempotencyKey).where(col(IdempotencyKey.scope) == scope).values(
            status_code=status_code, response=sealed, locked_until=None))
        session.commit()


def _release(engine: Engine, scope: str, *, forget: bool) -> None:
    """After a failure: a retry may run again (what was reserved stays); `forget` drops the key if nothing was."""
    with write_turn(engine), Session(engine) as session:
        if forget:
            session.execute(delete(IdempotencyKey).where(col(IdempotencyKey.scope) == scope,
                                                         col(IdempotencyKey.reserved).is_(None)))
        session.execute(update(IdempotencyKey).where(col(IdempotencyKey.scope) == scope).values(locked_until=None))
        session.commit()


def purge_expired(engine: Engine, limit: int = 1000) -> int:
    """Forget keys past their time (the claim also ignores them); returns how many went."""
    now = utcnow()
    with write_turn(engine), Session(engine) as session:
        scopes = session.exec(select(IdempotencyKey.scope).where(col(IdempotencyKey.expires_at) <= now).limit(limit)).all()
        if scopes:
            session.execute(delete(IdempotencyKey).where(col(IdempotencyKey.scope).in_(scopes)))
            session.commit()
        return len(scopes)


def open_reservations(engine: Engine, name: str, limit: int = 100) -> list[tuple[str, dict[str, Any]]]:
    """(scope, reserved) of keys whose request failed or died before answering, holding a `name` reservation."""
    now = utcnow()
    with Session(engine) as session:
        rows = session.exec(select(IdempotencyKey).where(
            col(IdempotencyKey.status_code).is_(None), col(IdempotencyKey.reserved).is_not(None),
            or_(col(IdempotencyKey.locked_until).is_(None), col(IdempotencyKey.locked_until) <= now),
            col(IdempotencyKey.expires_at) > now,
        ).limit(limit)).all()
    found = []
    for row in rows:
        reserved = json.loads(row.reserved or "{}")
        if name in reserved:
            found.append((row.scope, reserved))
    return found


# --- the middleware ------------------------------------------------------------------------------


async def _json(send: Send, status: int, detail: str, extra: list[tuple[bytes, bytes]] = ()) -> None:  # type: ignore[assignment]
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *extra]})
    await send({"type": "http.response.body", "body": body})


class IdempotencyKeys:
    """POSTs under /api/v1 with an Idempotency-Key header: claimed, run once, answered again on retry."""

    PURGE_EVERY = 500  # claims between two purges of expired keys, per process

    def __init__(self, app: ASGIApp, engine: Engine, settings: Settings) -> None:
        self.app, self.engine, self.settings = app, engine, settings
        self._claims = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith(SCOPED_PREFIX):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw = headers.get(HEADER.lower().encode())
        if raw is None:
            await self.app(scope, receive, send)
            return
        key = parse_key(raw.decode("latin-1"))
        if key is None:
            await _json(send, 400, BAD_KEY)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        principal = principal_of(headers, self.settings)
        key_scope, secret = _scope(principal, key), _secret(self.settings, principal, key)
        fp = fingerprint(secret, "POST", scope["path"], scope.get("query_string", b""), headers.get(b"content-type", b""), body)
        outcome = await asyncio.to_thread(claim_key, self.engine, key_scope, fp, "POST", scope["path"])
        self._claims += 1
        if self._claims % self.PURGE_EVERY == 0:
            asyncio.get_running_loop().run_in_executor(None, purge_expired, self.engine)
        if outcome.kind == "mismatch":
            await _json(send, 422, MISMATCH)
            return
        if outcome.kind == "busy":
            await _json(send, 409, IN_FLIGHT, [(b"retry-after", b"1")])
            return
        if outcome.kind == "replay":
            try:
                kept_headers, kept_body = _open(secret, outcome.response or b"")
            except (InvalidTag, ValueError, KeyError):
                log.error("stored answer for an idempotency key could not be opened; answering 409")
                await _json(send, 409, IN_FLIGHT, [(b"retry-after", b"1")])
                return
            await send({"type": "http.response.start", "status": outcome.status_code, "headers": [
                *kept_headers, (b"content-length", str(len(kept_body)).encode()), (REPLAYED_HEADER.lower().encode(), b"true")]})
            await send({"type": "http.response.body", "body": kept_body})
            return
        await self._run(scope, body, send, Claim(key_scope, secret, self.engine, outcome.epoch,
                                                  json.loads(outcome.reserved or "{}")))

    async def _run(self, scope: Scope, body: bytes, send: Send, claim: Claim) -> None:
        sent_body = False

        async def replay_receive() -> Message:
            nonlocal sent_body
            if sent_body:
                return {"type": "http.disconnect"}
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}

        start: Message | None = None
        answer: list[bytes] = []
        delivered = False

        async def recording_send(message: Message) -> None:
            # Held back until the answer is stored: once a client has it, a retry gets it again.
            nonlocal start, delivered
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            answer.append(message.get("body", b""))
            if message.get("more_body"):
                return
            status_code = start["status"]
            if status_code < 500 and status_code not in NOT_KEPT:
                kept = [(k, v) for k, v in start.get("headers", []) if k.lower() not in DROPPED_HEADERS]
                sealed = _seal(claim.secret, kept, b"".join(answer))
                await asyncio.to_thread(_finish, self.engine, claim.scope, status_code, sealed)
            else:  # nothing done (401, 403, 429: the key is freed) or a failure (a retry may run it again)
                await asyncio.to_thread(_release, self.engine, claim.scope, forget=status_code in NOT_KEPT)
            delivered = True
            await send(start)
            await send({"type": "http.response.body", "body": b"".join(answer)})

        token = _current.set(claim)
        try:
            await self.app(scope, replay_receive, recording_send)
        except BaseException:
            if not delivered:
                await asyncio.shield(asyncio.to_thread(_release, self.engine, claim.scope, forget=False))
            raise
        finally:
            _current.reset(token)
        if not delivered:  # the app answered nothing
            await asyncio.to_thread(_release, self.engine, claim.scope, forget=False)
