"""ASGI middleware: request size cap (413), the audit row of every API request, CORS for the codec.

The audit row is written before the response starts, so no answer leaves without its row; a
request refused before any route ran (401, 413, 429, unknown path) is recorded too.
"""

import json
import logging
import re

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.audit import AuditEntry, append_audit_rows
from db.group_commit import GroupCommit

log = logging.getLogger("disclosure.api.audit")

TOO_LARGE = "提交的内容过大，请删减后重试（附件请按规定方式提交）"
CONSULTATION_SUFFIX = re.compile(r"\.consult-\d+$")


async def _json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodySizeLimit:
    """413 for a body over `max_bytes`: by its Content-Length at once, or while a chunked body streams in."""

    def __init__(self, app: ASGIApp, max_bytes: int, uploads: tuple[re.Pattern[str], int] | None = None) -> None:
        """`uploads`: a path pattern whose requests may be larger (file uploads) and their own limit."""
        self.app, self.max_bytes, self.uploads = app, max_bytes, uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes, too_large = self.max_bytes, TOO_LARGE
        if self.uploads is not None and self.uploads[0].fullmatch(scope.get("path", "")):
            max_bytes = self.uploads[1]
            too_large = f"上传的文件超过单个文件 {self.uploads[1] // (1024 * 1024)} MB 的上限；请拆分后分别上传。"
        length = dict(scope.get("headers") or []).get(b"content-length")
        try:
            declared = int(length) if length is not None else None
        except ValueError:
            declared = None
        if declared is not None and declared > max_bytes:
            await _json(send, 413, too_large)
            return
        seen = 0
        started = refused = False

        async def limited_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes and not started:
                    # Answer 413 now; the app sees the client gone and whatever it sends is dropped.
                    refused = True
                    await _json(raw_send, 413, too_large)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        raw_send = send
        try:
            await self.app(scope, limited_receive, tracking_send)
        except Exception:
            if not refused:
                raise


def _application_id(scope: Scope) -> str | None:
    state = scope.get("state") or {}
    if state.get("audit_application_id"):
        return state["audit_application_id"]
    params = scope.get("path_params") or {}
    if params.get("application_id"):
        return str(params["application_id"])
    if params.get("consultation_id"):
        return CONSULTATION_SUFFIX.sub("", str(params["consultation_id"]))
    return None


def _action(scope: Scope) -> str:
    route = scope.get("route")
    template = getattr(route, "path", None)
    if template is None:
        # Unmatched: the raw path, but never a token that might sit in it.
        template = re.sub(r"/third-party/[^/]+", "/third-party/{token}", scope.get("path", ""))[:200]
    return f"{scope.get('method', '')} {template}"


class AuditTrail:
    """One hash-chained audit row per request under `prefix` (see services/audit.py)."""

    def __init__(self, app: ASGIApp, engine, prefix: str = "/api/") -> None:
        self.app, self.engine, self.prefix = app, engine, prefix
        # Every request appends to one chain: their rows are committed in groups (db/group_commit.py).
        self.writer = GroupCommit("audit", lambda entries: append_audit_rows(engine, entries))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(self.prefix) or scope.get("method") == "OPTIONS":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})

        async def audited_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                await self._record(scope, message["status"])
            await send(message)

        await self.app(scope, receive, audited_send)

    async def _record(self, scope: Scope, status: int) -> None:
        state = scope.get("state") or {}
        client = scope.get("client")
        try:
            await self.writer.submit(AuditEntry(
                actor=state.get("audit_actor", "anonymous"), role=state.get("audit_role", ""), action=_action(scope),
                application_id=_application_id(scope), status_code=status, client=client[0] if client else "",
            ))
        except Exception:
            # Fail closed: no answer without its audit row (the client gets a 500 and may retry).
            log.exception("audit row not written for %s", _action(scope))
            raise


class CodecCORS:
    """CORS only for the codec endpoints, only for the Temporal UI's origins."""

    def __init__(self, app: ASGIApp, origins: list[str], prefix: str = "/api/v1/codec") -> None:
        self.app, self.prefix = app, prefix
        self.cors = CORSMiddleware(app, allow_origins=origins, allow_methods=["POST", "OPTIONS"],
                                   allow_headers=["Authorization", "Content-Type", "X-Namespace"],
                                   allow_credentials=False, max_age=600)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith(self.prefix):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
