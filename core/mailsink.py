"""The embedded default's mail sink: an SMTP server on loopback that keeps every letter as a file.

`make run` starts it (run.py, in its own process) whenever no SMTP server is configured (see
`Settings.runs_mail_sink`): the worker sends every letter to it exactly as it would to the agency's
server, and each accepted message is written, as received, to `<data_dir>/mail/` as
`<UTC timestamp>-<sha256 prefix>.eml` (written to a temporary name, then renamed: a reader never
sees half a message). Nothing is delivered further.

The read API below is what the staff outbox page uses: `list_messages`, `read_message`,
`attachment`. Message names come from the page's URL, so only names of the sink's own pattern are
accepted (no separators, no "..": `InvalidMessageName`), and the file must be directly inside the folder.

    python -m core.mailsink --dir data/mail --host 127.0.0.1 --port 1025     # on its own
    python -m core.mailsink --dir data/mail --fd 5                           # on a socket run.py bound

It behaves like the agency's relay towards the world (RULES §3 "Service"): it advertises DSN (RFC 3461) and, for
each message whose sender asked for one, reports what became of each recipient as a delivery status notification
posted to the API's returns endpoint (`--returns-url`, `DISCLOSURE_MAIL_RETURNS_TOKEN`), as a real mail system
would hand it to the return path. What becomes of an address is set by `DISCLOSURE_MAIL_SINK_RULES`, e.g.
`bounce:*@nowhere.example;defer:*@slow.example` (first match wins; default: delivered), so a bounced or delayed
notice can be tried on one machine.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import signal
import socket
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import fnmatch
import logging

import httpx
from aiosmtpd.smtp import SMTP, Envelope, Session

from core import clock

NAME_PATTERN = re.compile(r"^(\d{8}T\d{6}\.\d{6}Z)-([0-9a-f]{16})\.eml$")
SUFFIX = ".eml"
# A letter with its attachments; an SMTP client offering more is refused before DATA (SIZE).
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


class InvalidMessageName(ValueError):
    """A name that is not one of the sink's own file names (e.g. a path): refused, nothing is read."""


class MessageNotFound(LookupError):
    """A well-formed name with no such message, or an attachment index out of range."""


# --- writing ----------------------------------------------------------------------------------


def message_name(content: bytes, at: datetime) -> str:
    stamp = at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{stamp}-{hashlib.sha256(content).hexdigest()[:16]}{SUFFIX}"


def store_message(mail_dir: Path, content: bytes, *, at: datetime | None = None) -> Path:
    """Write one message atomically into `mail_dir`; its path."""
    mail_dir.mkdir(parents=True, exist_ok=True)
    target = mail_dir / message_name(content, at or clock.now())
    handle, temporary = tempfile.mkstemp(dir=mail_dir, prefix=".incoming-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


log = logging.getLogger(__name__)
# RFC 3461 parameters a DSN-capable relay accepts (aiosmtpd itself refuses every MAIL/RCPT parameter it does not know).
DSN_PARAMETERS = ("ENVID", "RET", "NOTIFY", "ORCPT")


class DsnSMTP(SMTP):
    """aiosmtpd's server accepting the DSN extension's parameters (the handler advertises DSN in EHLO)."""

    def _getparams(self, params):
        found = super()._getparams(params)
        if found is not None:
            for name in DSN_PARAMETERS:
                found.pop(name, None)
        return found


def parse_rules(text: str | None) -> list[tuple[str, str]]:
    """`bounce:*@nowhere.example;defer:*@slow.example` -> [("bounce", "*@nowhere.example"), ...]."""
    rules = []
    for part in (text or "").replace(",", ";").split(";"):
        if ":" in part:
            fate, pattern = part.split(":", 1)
            if fate.strip() in ("deliver", "bounce", "defer") and pattern.strip():
                rules.append((fate.strip(), pattern.strip().lower()))
    return rules


def fate_of(rules: list[tuple[str, str]], address: str) -> str:
    return next((fate for fate, pattern in rules if fnmatch.fnmatch(address.lower(), pattern)), "deliver")


def envelope_option(options: list[str], name: str) -> str | None:
    """The value of an ESMTP parameter as the server recorded it (upper-cased by aiosmtpd)."""
    prefix = name.upper() + "="
    return next((o[len(prefix):] for o in options if o.upper().startswith(prefix)), None)


def delivery_reports(envelope: Envelope, *, rules: list[tuple[str, str]], reporting_mta: str,
                     at: datetime) -> list[bytes]:
    """The DSNs a relay owes the sender of `envelope`: one per recipient whose NOTIFY asks for its fate."""
    from letters.returns import build_dsn  # pure; imported here so the sink starts without the letters package

    notify = (envelope_option(envelope.rcpt_options, "NOTIFY") or "").upper()
    if not notify or "NEVER" in notify or not envelope.mail_from:
        return []
    envelope_id = envelope_option(envelope.mail_options, "ENVID")
    reports = []
    for recipient in envelope.rcpt_tos:
        fate = fate_of(rules, recipient)
        action, status, diagnostic, wanted = {
            "deliver": ("delivered", "2.0.0", "", "SUCCESS"),
            "bounce": ("failed", "5.1.1", "550 5.1.1 <%s>: Recipient address rejected: User unknown" % recipient,
                       "FAILURE"),
            "defer": ("delayed", "4.4.1", "421 4.4.1 Connection timed out", "DELAY"),
        }[fate]
        if wanted in notify:
            reports.append(build_dsn(envelope.original_content or b"", recipient=recipient, action=action,
                                     status=status, diagnostic=diagnostic, reporting_mta=reporting_mta, at=at,
                                     return_to=envelope.mail_from, envelope_id=envelope_id))
    return reports


@dataclass
class StoringHandler:
    """aiosmtpd handler: every message accepted is stored before the server answers 250."""

    mail_dir: Path
    stored: list[Path] = field(default_factory=list)
    returns_url: str | None = None  # the API's POST /api/v1/mail/returns
    returns_token: str | None = None
    rules: list[tuple[str, str]] = field(default_factory=list)

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-DSN", responses[-1]] if responses else responses

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        try:
            path = await asyncio.to_thread(store_message, self.mail_dir, content)
        except OSError as error:  # a full disk: the sender keeps the letter and retries
            return f"451 Requested action aborted: cannot store the message ({error.strerror})"
        self.stored.append(path)
        reports = delivery_reports(envelope, rules=self.rules, reporting_mta="mailsink.localhost", at=clock.now())
        if reports and self.returns_url and self.returns_token:
            asyncio.get_running_loop().create_task(self._post_reports(reports))
        return "250 Message accepted and stored"

    async def _post_reports(self, reports: list[bytes]) -> None:
        """Hand each report to the API's returns endpoint, as a mail system hands returns to the return path; a few
        tries, then kept under mail/returns/ for staff (the API may still be starting)."""
        async with httpx.AsyncClient(timeout=10) as client:
            for report in reports:
                for attempt in range(5):
                    try:
                        answer = await client.post(self.returns_url, content=report,
                                                   headers={"X-Mail-Returns-Token": self.returns_token,
                                                            "Content-Type": "message/rfc822"})
                        if answer.status_code < 500:
                            break
                    except httpx.HTTPError as error:
                        log.warning("posting a delivery report failed: %s", error)
                    await asyncio.sleep(2 ** attempt)
                else:
                    await asyncio.to_thread(store_message, self.mail_dir / "returns", report)


async def serve(mail_dir: Path, sock: socket.socket, stop: asyncio.Event, *, returns_url: str | None = None,
                returns_token: str | None = None, rules: str | None = None) -> None:
    """Serve SMTP on an already bound, listening socket until `stop` is set."""
    handler = StoringHandler(mail_dir, returns_url=returns_url, returns_token=returns_token, rules=parse_rules(rules))
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: DsnSMTP(handler, data_size_limit=MAX_MESSAGE_BYTES, hostname="mailsink.localhost",
                     ident="disclosure mail sink"),
        sock=sock,
    )
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket; port 0 lets the OS choose (read it from getsockname())."""
    return socket.create_server((host, port))


# --- reading (the staff outbox page) ------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentInfo:
    index: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class MailMessageSummary:
    name: str
    stored_at: datetime  # when the sink accepted it (from the file name, UTC)
    date: datetime | None  # the message's own Date header
    sender: str
    to: list[str]
    subject: str
    message_id: str
    size: int
    attachments: list[AttachmentInfo]


@dataclass(frozen=True)
class MailMessage:
    summary: MailMessageSummary
    text: str  # the plain-text body
    headers: list[tuple[str, str]]


def _checked_path(mail_dir: Path, name: str) -> Path:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InvalidMessageName(f"不是邮件文件名：{name!r}")
    path = mail_dir / name
    if path.is_symlink():  # planted in the folder: the sink writes regular files only
        raise InvalidMessageName(f"不是邮件文件名：{name!r}")
    return path


def _parse(path: Path) -> EmailMessage:
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise MessageNotFound(f"没有邮件 {path.name}") from None
    return message_from_bytes(content, policy=policy.default)  # type: ignore[return-value]


def _attachments(message: EmailMessage) -> list[tuple[AttachmentInfo, EmailMessage]]:
    found = []
    for index, part in enumerate(message.iter_attachments()):
        payload = part.get_payload(decode=True) or b""
        info = AttachmentInfo(index=index, filename=part.get_filename() or f"attachment-{index + 1}",
                              content_type=part.get_content_type(), size=len(payload))
        found.append((info, part))
    return found


def _summary(name: str, size: int, message: EmailMessage) -> MailMessageSummary:
    stamp = NAME_PATTERN.fullmatch(name).group(1)  # type: ignore[union-attr]
    try:
        sent = parsedate_to_datetime(message["Date"]) if message["Date"] else None
    except (TypeError, ValueError):
        sent = None
    return MailMessageSummary(
        name=name,
        stored_at=datetime.strptime(stamp, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=timezone.utc),
        date=sent,
        sender=str(message["From"] or ""),
        to=[formatted for formatted in (str(v) for v in message.get_all("To", []))],
        subject=str(message["Subject"] or ""),
        message_id=str(message["Message-ID"] or ""),
        size=size,
        attachments=[info for info, _ in _attachments(message)],
    )


def message_names(mail_dir: Path) -> list[str]:
    """The stored messages' names, newest first."""
    try:
        names = [entry.name for entry in os.scandir(mail_dir)
                 if NAME_PATTERN.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)]
    except FileNotFoundError:
        return []
    return sorted(names, reverse=True)


def count_messages(mail_dir: Path) -> int:
    return len(message_names(mail_dir))


def list_messages(mail_dir: Path, offset: int = 0, limit: int = 50) -> list[MailMessageSummary]:
    """One page of messages, newest first (only the page's files are read)."""
    summaries = []
    for name in message_names(mail_dir)[max(offset, 0):max(offset, 0) + max(limit, 0)]:
        path = mail_dir / name
        try:
            summaries.append(_summary(name, path.stat().st_size, _parse(path)))
        except (MessageNotFound, FileNotFoundError):
            continue  # removed by hand since the listing
    return summaries


def search_messages(mail_dir: Path, text: str, limit: int = 50) -> list[MailMessageSummary]:
    """Issue 23 point 10: the messages whose subject or recipients contain `text` (an application number, an
    address, a letter's name), newest first; only the headers of each file are read."""
    from email.parser import BytesHeaderParser

    wanted, found = text.strip().casefold(), []
    parser = BytesHeaderParser(policy=policy.default)
    for name in message_names(mail_dir):
        path = mail_dir / name
        try:
            with path.open("rb") as handle:
                headers = parser.parse(handle)
        except FileNotFoundError:
            continue
        haystack = " ".join([str(headers["Subject"] or "")] + [str(v) for v in headers.get_all("To", [])]).casefold()
        if wanted in haystack:
            found.append(_summary(name, path.stat().st_size, _parse(path)))
            if len(found) >= limit:
                break
    return found


def read_message(mail_dir: Path, name: str) -> MailMessage:
    path = _checked_path(mail_dir, name)
    message = _parse(path)
    body = message.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else ""
    return MailMessage(summary=_summary(name, path.stat().st_size, message), text=text,
                       headers=[(key, str(value)) for key, value in message.items()])


def attachment(mail_dir: Path, name: str, index: int) -> tuple[str, str, bytes]:
    """(filename, content type, bytes) of the message's attachment number `index` (from 0)."""
    message = _parse(_checked_path(mail_dir, name))
    parts = _attachments(message)
    if not 0 <= index < len(parts):
        raise MessageNotFound(f"邮件 {name} 没有第 {index + 1} 个附件")
    info, part = parts[index]
    return info.filename, info.content_type, part.get_payload(decode=True) or b""


# --- process entry point ------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The local mail sink: keeps every message as an .eml file.")
    parser.add_argument("--dir", type=Path, required=True, help="the folder messages are written to")
    parser.add_argument("--fd", type=int, help="a listening socket inherited from the parent (run.py)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--returns-url", help="where delivery reports go: the API's /api/v1/mail/returns")
    args = parser.parse_args(argv)
    sock = socket.socket(fileno=args.fd) if args.fd is not None else listening_socket(args.host, args.port)
    args.dir.mkdir(parents=True, exist_ok=True)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(args.dir, sock, stop, returns_url=args.returns_url,
                    returns_token=os.environ.get("DISCLOSURE_MAIL_RETURNS_TOKEN"),
                    rules=os.environ.get("DISCLOSURE_MAIL_SINK_RULES"))

    asyncio.run(run())


if __name__ == "__main__":
    main()
