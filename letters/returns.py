"""What comes back after an e-mail left the agency: delivery status notifications and bounces. Pure: bytes in, facts out.

RULES §3 "Service": acceptance by our own outgoing relay is dispatch; an e-mail is served the day it reached the
addressee's own mail system (民事诉讼法 第九十条 by analogy: 到达受送达人特定系统的日期). That day is reported by a
delivery status notification (DSN, RFC 3464: a multipart/report whose per-recipient block says `Action: delivered`),
which our relay sends because every letter asks for one (RFC 3461: `NOTIFY=SUCCESS,FAILURE,DELAY`, `ENVID` = the
letter's key, `RET=HDRS`). A failure (`Action: failed`, or a bounce in one of the many non-standard formats, read by
flufl.bounce, GNU Mailman's maintained bounce detectors) means the notice was not served: staff are told.

`build_dsn` makes the report a relay sends (the embedded mail sink and the tests' SMTP server use it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser, HeaderParser
from email.utils import format_datetime, make_msgid, parsedate_to_datetime
from typing import Literal

from flufl.bounce import all_failures

Action = Literal["delivered", "failed", "delayed", "relayed", "expanded"]
# RFC 3461 §4: the options a sender asks a DSN-capable relay for.
NOTIFY_ALL = "NOTIFY=SUCCESS,FAILURE,DELAY"


@dataclass(frozen=True)
class ReturnReport:
    """One recipient's fate, as the returned message tells it."""

    action: Action
    recipient: str | None
    status: str  # RFC 3463 enhanced status code, e.g. 2.0.0 / 5.1.1
    diagnostic: str
    at: datetime | None  # when the reporting system delivered it (or gave up)
    reporting_mta: str
    envelope_id: str | None  # our letter's key (ENVID), when the relay returned it
    original_message_id: str | None  # the Message-ID of the letter it is about


def xtext(value: str) -> str:
    """RFC 3461 §4: xtext for ENVID and ORCPT ("+" followed by two hex digits outside "!".."~", "+" and "=")."""
    return "".join(c if "!" <= c <= "~" and c not in "+=" else "".join(f"+{b:02X}" for b in c.encode()) for c in value)


def unxtext(value: str) -> str:
    return re.sub(r"\+([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), value)


def _address(field: str | None) -> str | None:
    """'rfc822; someone@example.cn' -> 'someone@example.cn'."""
    if not field:
        return None
    return str(field).split(";", 1)[-1].strip().strip("<>") or None


def _date(value) -> datetime | None:
    try:
        return parsedate_to_datetime(str(value)) if value else None
    except (TypeError, ValueError):
        return None


def _original_message_id(msg: Message) -> str | None:
    """The returned letter's Message-ID: from the attached message or its headers (RET=HDRS)."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, Message) and inner.get("Message-ID"):
                return str(inner["Message-ID"]).strip()
        elif ctype == "text/rfc822-headers":
            payload = part.get_payload(decode=True) or b""
            headers = BytesHeaderParser(policy=policy.compat32).parsebytes(payload)
            if headers.get("Message-ID"):
                return str(headers["Message-ID"]).strip()
    return None


def parse_return(raw: bytes) -> list[ReturnReport]:
    """Every recipient reported in a returned message (a DSN or a bounce); [] when it reports none."""
    msg = message_from_bytes(raw, policy=policy.compat32)
    original = _original_message_id(msg)
    sent_at = _date(msg.get("Date"))
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list) or not blocks:
            break
        per_message, recipients = blocks[0], blocks[1:]
        envelope_id = per_message.get("Original-Envelope-Id")
        reporting = _address(per_message.get("Reporting-MTA")) or ""
        arrival = _date(per_message.get("Arrival-Date"))
        reports = []
        for block in recipients:
            action = str(block.get("Action", "")).strip().lower()
            if action not in ("delivered", "failed", "delayed", "relayed", "expanded"):
                continue
            reports.append(ReturnReport(
                action=action, recipient=_address(block.get("Final-Recipient") or block.get("Original-Recipient")),
                status=str(block.get("Status", "")).strip(), diagnostic=_address(block.get("Diagnostic-Code")) or "",
                at=_date(block.get("Last-Attempt-Date")) or arrival or sent_at, reporting_mta=reporting,
                envelope_id=unxtext(str(envelope_id).strip()) if envelope_id else None, original_message_id=original,
            ))
        return reports
    # Not RFC 3464: one of the formats flufl.bounce knows (qmail, Exim, Postfix's older ones, Exchange, …).
    try:
        temporary, permanent = all_failures(msg)  # flufl.bounce: (temporary, permanent)
    except Exception:  # a detector tripped over a malformed message: it reports nothing we can use
        return []
    return [ReturnReport(action=action, recipient=address.decode(errors="replace"),
                         status="5.0.0" if action == "failed" else "4.0.0",
                         diagnostic=str(msg.get("Subject", "")), at=sent_at, reporting_mta="",
                         envelope_id=None, original_message_id=original)
            for action, addresses in (("failed", permanent), ("delayed", temporary)) for address in sorted(addresses)]


def build_dsn(original: bytes, *, recipient: str, action: Action, status: str, diagnostic: str, reporting_mta: str,
              at: datetime, return_to: str, envelope_id: str | None = None) -> bytes:
    """An RFC 3464 delivery status notification about `original`, as a relay sends it to the envelope sender."""
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(original)
    report = EmailMessage()
    report["From"] = f"Mail Delivery System <MAILER-DAEMON@{reporting_mta}>"
    report["To"] = return_to
    report["Subject"] = {"delivered": "Successful Mail Delivery Report", "failed": "Undelivered Mail Returned to Sender",
                         "delayed": "Delayed Mail (still being retried)"}.get(action, "Delivery Status Notification")
    report["Date"] = format_datetime(at)
    report["Message-ID"] = make_msgid(domain=reporting_mta)
    report.set_content({"delivered": f"Your message was delivered to {recipient}.",
                        "failed": f"Your message could not be delivered to {recipient}: {diagnostic}",
                        "delayed": f"Delivery to {recipient} is delayed: {diagnostic}"}.get(action, action))
    per_message = f"Reporting-MTA: dns; {reporting_mta}\n" + (f"Original-Envelope-Id: {xtext(envelope_id)}\n"
                                                               if envelope_id else "") \
        + f"Arrival-Date: {format_datetime(at)}\n"
    per_recipient = (f"Final-Recipient: rfc822; {recipient}\nAction: {action}\nStatus: {status}\n"
                     + (f"Diagnostic-Code: smtp; {diagnostic}\n" if diagnostic else "")
                     + f"Last-Attempt-Date: {format_datetime(at)}\n")
    report.make_mixed()
    report.replace_header("Content-Type", 'multipart/report; report-type="delivery-status"')
    status_part = Message()
    status_part["Content-Type"] = "message/delivery-status"
    parse = HeaderParser(policy=policy.compat32).parsestr
    status_part.set_payload([parse(per_message), parse(per_recipient)])
    report.attach(status_part)
    headers_part = Message()
    headers_part["Content-Type"] = "text/rfc822-headers"
    headers_part.set_payload("".join(f"{name}: {value}\n" for name, value in headers.items()))
    report.attach(headers_part)
    return report.as_bytes(policy=policy.SMTP)
