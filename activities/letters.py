"""Letters v2: issue a document once (文号, PDF, stored file, outbox row) and send it exactly once.

Exactly once, and where it can only be "at most once, then a person decides":
- `issue_letter` is idempotent on the letter's key: the first call allocates the 文号, renders the
  PDF once, stores it content-addressed and writes the document and its outbox row in one
  transaction; a retry or replay returns what was stored.
- `send_letter` reads the outbox row. `sent` → nothing to do. Otherwise it connects, says MAIL and
  RCPT, and only then marks the row `sending` (committed) and transmits DATA. A failure before DATA
  (server down, refused connection, 4xx) is certain not to have delivered: the row goes back to
  `failed` with the error and the attempt count, and the workflow retries with backoff. A failure
  during DATA without a definite answer leaves `sending`.
- A try that finds the row `sending` does NOT resend: the previous try may have been accepted by
  the server with its answer lost (worker killed between the server's 250 and our commit, or the
  connection dropped). The row becomes `uncertain` and staff get a delivery-problem alert to check
  with the applicant / mail log and confirm (the Message-ID is stable per key, so it can be found).
  The residual window is therefore: server accepted DATA → our `sent` commit. Inside it we never
  duplicate; we ask a person instead.
"""

import asyncio
import functools
import hashlib
import os
import smtplib
import socket
import threading
from letters.returns import NOTIFY_ALL, xtext
from collections.abc import Callable
from datetime import datetime, timedelta
from email import policy as email_policy
from email import encoders
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.models import (
    AttachmentRef,
    DeliveredLetter,
    IssuedLetter,
    IssueLetterInput,
    RecordDeliveryInput,
    SendLetterInput,
    SendLetterResult,
    StaffAlertInput,
)
from core.config import Settings
from db import letters_repository as repo
from db import repository
from db.letters_repository import ChecksumMismatch, FileStore, sha256_of
from db.models import utcnow
from db.models_letters import LetterAttachment, LetterDocument, LetterOutbox
from db.session import session_scope
from services.agencies import AgencyProfiles
from letters.documents import SERIES, document_number, render_letter_pdf
from outcomes import OutcomeCode

# deliver_letter's hook (activities/disclosure.py): called with the session, the outbox row and the document
# in the transaction that finds or makes the letter sent or awaiting staff.
OnOutcome = Callable[[Session, LetterOutbox, LetterDocument], None]

DEFAULT_DOCUMENT_NUMBER_PREFIX = "某统"
HEARTBEAT_SECONDS = 1.0
# The first heartbeat only after this long: most letters are done by then, and each heartbeat is a call to
# the server. Well inside the 10 s heartbeat timeout, which counts from the start until a first heartbeat
# (then the SDK sends at most one per 8 s, each resetting it).
FIRST_HEARTBEAT_AFTER = 3.0
# deliver_letter's first try: if it fails, the workflow's next round starts after DISPATCH_RETRY's initial
# interval (workflows/delivery.py), which the before-due warning needs to know.
FIRST_RETRY_IN = timedelta(seconds=2)


def document_number_prefix(settings=None) -> str:
    """文号's agency code: the setting (`DISCLOSURE_DOCUMENT_NUMBER_PREFIX`, environment or .env), as the start-up check
    reads it (core/config.py)."""
    configured = getattr(settings, "document_number_prefix", None) if settings is not None else None
    return (configured or os.environ.get("DISCLOSURE_DOCUMENT_NUMBER_PREFIX", "")).strip() or DEFAULT_DOCUMENT_NUMBER_PREFIX


class _Existing(Exception):
    """Another try issued the document first: roll back our number and return theirs."""


def attachments_to_send(rows: list[LetterAttachment], items) -> list[AttachmentRef]:
    """Disclosed items get their files as they are; partly disclosed items only the redacted versions."""
    wanted: set[tuple[int, str]] = set()
    for item in items:
        if item.outcome == OutcomeCode.DISCLOSED:
            wanted.add((item.item_no, "original"))
        elif item.outcome == OutcomeCode.PARTLY_DISCLOSED:
            wanted.add((item.item_no, "redacted"))
    return [
        AttachmentRef(attachment_id=r.id, item_no=r.item_no, filename=r.filename, sha256=r.sha256, size=r.size,
                      content_type=r.content_type)
        for r in rows if (r.item_no, r.version) in wanted
    ]


class LetterActivities:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._agencies = AgencyProfiles(engine)  # issue 25: each agency's 文号 prefix and sender
        self.files = FileStore(settings.data_dir)
        # Renders are CPU-bound: a burst of intake queues here rather than in every activity slot. Since
        # letters are typeset by one Typst compiler per process (letters/documents.py, a few ms each, the
        # font parsed once) they take turns on its lock anyway; with fpdf2 each render parsed its own copy
        # of the 45,000-glyph font and 100 at once took the worker's RSS past 600 MiB.
        # Settings.renders_at_once (2): per process, the API's previews have the same limit (api/offloop.py).
        self._render_slots = threading.BoundedSemaphore(settings.renders_at_once)

    # --- issue ---------------------------------------------------------------------------------

    @activity.defn(name="issue_letter")
    async def issue_letter(self, inp: IssueLetterInput) -> IssuedLetter:
        issued = await asyncio.to_thread(self._issue, inp)
        activity.logger.info("issued %s as %s (pdf %s)", inp.key, issued.document_number, issued.pdf_sha256[:12])
        return issued

    def _issue(self, inp: IssueLetterInput) -> IssuedLetter:
        return self._issue_rows(inp)[0]

    def _issue_rows(self, inp: IssueLetterInput) -> tuple[IssuedLetter, tuple[LetterOutbox, LetterDocument] | None]:
        """The issued letter, and its outbox row and document when this call wrote them (else None: issued
        before, by an earlier try, whose send may have begun)."""
        with session_scope(self._engine) as session:
            if (document := repo.get_document(session, inp.key)) is not None:
                return self._issued(session, document), None
        body_sha = sha256_of(inp.letter.body.encode())
        if inp.expected_body_sha256 is not None and body_sha != inp.expected_body_sha256:
            raise ApplicationError(f"{inp.key}: the text differs from the approved text", type="ApprovedTextMismatch",
                                   non_retryable=True)
        number = self._reserve_number(inp)
        # Rendered outside any transaction: it takes milliseconds (more under load), and a transaction
        # holds the series' counter (on SQLite the whole database) until it ends.
        with self._render_slots:
            pdf = render_letter_pdf(inp.letter.body, number=number, issued_on=inp.letter_date)
        pdf_sha = self.files.put(pdf)
        try:
            with session_scope(self._engine) as session:
                # A write first: on SQLite a transaction that read first cannot take the write lock.
                repo.add_stored_file(session, pdf_sha, len(pdf))
                if repo.get_document(session, inp.key) is not None:
                    raise _Existing  # another attempt of this activity finished first
                attachments = attachments_to_send(repo.attachments_for(session, inp.application_id),
                                                  inp.attach_for_items) if inp.attach_for_items else []
                document = LetterDocument(
                    key=inp.key, application_id=inp.application_id, kind=inp.letter.kind, document_number=number,
                    issued_on=inp.letter_date, subject=inp.letter.subject, body=inp.letter.body, body_sha256=body_sha,
                    pdf_sha256=pdf_sha, pdf_size=len(pdf),
                )
                session.add(document)
                created = (outbox := repo.get_outbox(session, inp.key)) is None
                if created:
                    outbox = LetterOutbox(
                        key=inp.key, application_id=inp.application_id, kind=inp.letter.kind, method=inp.method,
                        recipient_name=inp.recipient_name, email=inp.email, address=inp.address,
                        attachments=[a.model_dump() for a in attachments],
                        status="pending" if inp.method == "email" else "awaiting-staff",
                    )
                    session.add(outbox)
                session.flush()
                # The rows just written: not read back. A fresh outbox row is this call's to send.
                fresh = (outbox, document) if created else None
                return self._issued_as(document, outbox), fresh
        except _Existing:
            with session_scope(self._engine) as session:
                return self._issued(session, repo.get_document(session, inp.key)), None

    def _reserve_number(self, inp: IssueLetterInput) -> str:
        """The letter's 文号: the one reserved for its key by an earlier attempt, else the next of its series."""
        year = inp.letter_date.year
        try:
            with session_scope(self._engine) as session:
                # The counter first: on SQLite a transaction that read first cannot take the write lock.
                agency = self._agencies.of(inp.agency, inp.application_id)
                seq = repo.allocate_document_number(session, SERIES[inp.letter.kind], year, agency and agency.code)
                prefix = (agency.document_number_prefix if agency else None) or document_number_prefix(self._settings)
                number = document_number(prefix, inp.letter.kind, year, seq)
                if not repo.reserve_document_number(session, inp.key, number):
                    raise _Existing  # rolled back: the counter gives this number back
                return number
        except _Existing:
            with session_scope(self._engine) as session:
                reserved = repo.reserved_document_number(session, inp.key)
            assert reserved is not None
            return reserved

    def _issued(self, session, document: LetterDocument) -> IssuedLetter:
        return self._issued_as(document, repo.get_outbox(session, document.key))

    @staticmethod
    def _issued_as(document: LetterDocument, outbox: LetterOutbox | None) -> IssuedLetter:
        return IssuedLetter(
            key=document.key, document_number=document.document_number, body_sha256=document.body_sha256,
            pdf_sha256=document.pdf_sha256, pdf_size=document.pdf_size,
            attachments=[AttachmentRef(**a) for a in (outbox.attachments if outbox else [])],
            status=outbox.status if outbox else "pending",
        )

    @activity.defn(name="record_letter_delivery")
    async def record_letter_delivery(self, inp: RecordDeliveryInput) -> None:
        """Staff confirmed delivery (post: signed-for date and tracking number; pickup; portal; e-mail)."""

        def run() -> None:
            with session_scope(self._engine) as session:
                if repo.get_outbox(session, inp.key) is None:
                    return  # a letter from before letters v2 has no outbox row
                repo.record_service(session, inp.key, served_on=inp.delivered_on, method=inp.method, by=inp.by,
                                    tracking_number=inp.tracking_number, posted_on=inp.posted_on,
                                    received_by=inp.received_by, handed_over_by=inp.handed_over_by, note=inp.note)

        await asyncio.to_thread(run)

    # --- send ----------------------------------------------------------------------------------

    @activity.defn(name="send_letter")
    async def send_letter(self, inp: SendLetterInput) -> SendLetterResult:
        info = activity.info()
        # The server's clock for this try (the workflow's, also under time skipping) and when the server
        # would try next if this one fails (its retry policy; the workflow's next round is as late).
        policy = info.retry_policy
        next_try_in = timedelta(0)
        if policy is not None:
            next_try_in = policy.initial_interval * policy.backoff_coefficient ** (info.attempt - 1)
            if policy.maximum_interval is not None:
                next_try_in = min(next_try_in, policy.maximum_interval)
        result = await _heartbeating(asyncio.to_thread(
            self._send, inp, tried_at=info.current_attempt_scheduled_time, next_try_in=next_try_in))
        activity.logger.info("send %s: %s after %d attempts", inp.key, result.status, result.attempts)
        return result

    # --- issue and send in one activity (issue 15 point 2) ---------------------------------------

    async def deliver(self, issue: IssueLetterInput, send: SendLetterInput,
                      on_outcome: OnOutcome | None = None) -> DeliveredLetter:
        """The body of `deliver_letter` (activities/disclosure.py composes first): issue, then one try.

        A retry of the activity is idempotent on the key: `_issue` returns the stored document and `_send`
        reads the outbox row (sent: nothing to do; sending: marked uncertain, never resent). A try that
        failed before DATA is recorded on the row as by `send_letter` and returned, not raised: the
        workflow shows it and goes on with its rounds of `send_letter` (workflows/delivery.py).
        `on_outcome(session, row, document)` is called in the transaction that finds or makes the row sent or
        awaiting staff (deliver_letter writes the application's record there).
        """
        tried_at = activity.info().current_attempt_scheduled_time
        delivered = await _heartbeating(asyncio.to_thread(self._issue_and_send, issue, send, tried_at, on_outcome))
        activity.logger.info("issued %s as %s, send: %s", issue.key, delivered.issued.document_number,
                             delivered.sent.status if delivered.sent else f"{delivered.failed_type} (will retry)")
        return delivered

    def _issue_and_send(self, issue: IssueLetterInput, send: SendLetterInput,
                        tried_at: datetime | None, on_outcome: "OnOutcome | None" = None) -> DeliveredLetter:
        issued, fresh = self._issue_rows(issue)
        try:
            sent = self._send(send, tried_at=tried_at, next_try_in=FIRST_RETRY_IN, on_outcome=on_outcome, fresh=fresh)
        except ApplicationError as error:
            if error.non_retryable:
                raise
            counted = error.details[0] if error.details and isinstance(error.details[0], int) else None
            return DeliveredLetter(letter=issue.letter, issued=issued, failed_type=error.type or type(error).__name__,
                                   failed_message=str(error), failed_attempts=counted)
        return DeliveredLetter(letter=issue.letter, issued=issued, sent=sent)

    def _send(self, inp: SendLetterInput, *, tried_at: datetime | None = None,
              next_try_in: timedelta = timedelta(0), on_outcome: "OnOutcome | None" = None,
              fresh: tuple[LetterOutbox, LetterDocument] | None = None) -> SendLetterResult:
        """`fresh`: the outbox row and document this activity has just written (deliver_letter), not read again."""
        with session_scope(self._engine) as session:
            if fresh is not None:
                row, document = fresh
            elif (row := repo.get_outbox(session, inp.key)) is None:
                raise ApplicationError(f"{inp.key}: no such letter in the outbox", type="UnknownLetter", non_retryable=True)
            else:
                document = repo.get_document(session, inp.key)
            if row.status in ("sent", "awaiting-staff", "delivered", "uncertain"):
                if on_outcome is not None and row.status in ("sent", "awaiting-staff"):
                    on_outcome(session, row, document)
                return self._result(row)
            if row.status == "sending":
                # The previous try may have reached the mail server: never resend blindly.
                row = repo.update_outbox(session, inp.key, status="uncertain",
                                         last_error="上次发送在邮件服务器确认前中断，可能已送达，未重发；请工作人员核实")
                repository.insert_staff_alert(session, StaffAlertInput(
                    key=f"{inp.key}:uncertain", application_id=inp.application_id, kind="delivery-problem",
                    role="supervisor", message=f"{inp.application_id} 的文书（{document.document_number}）发送中断，"
                    f"可能已送达申请人，系统未重发。请核实（Message-ID {self._message_id(inp.key)}）后确认送达或重新寄送。"))
                return self._result(row)
        try:
            email = self._build_email(row, document, inp.agency)
        except ChecksumMismatch as error:
            return self._fail_permanently(inp, f"文件校验失败：{error}")
        try:
            accepted_at, smtp_reply = self._smtp_transaction(inp.key, row, email)
        except _Uncertain as error:
            # Left "sending": the next try turns it into "uncertain" and alerts staff.
            raise ApplicationError(f"{inp.key}: {error}", type="DeliveryUncertain") from error
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as error:
            return self._fail_permanently(inp, f"邮件服务器拒收：{_describe(error)}")
        except (OSError, smtplib.SMTPException) as error:
            # Certain not to have been delivered: recorded on the row (staff see every failed try on the
            # outbox and the application), then retried by the server, which adds no history events.
            attempts = row.attempts + 1
            with session_scope(self._engine) as session:
                repo.update_outbox(session, inp.key, only_if_status=("pending", "failed", "sending"), status="failed",
                                   attempts=attempts, last_error=_describe(error))
                late = tried_at or utcnow()
                if inp.due_at is not None and late + next_try_in > inp.due_at:
                    repository.insert_staff_alert(session, StaffAlertInput(  # once per letter: keyed
                        key=f"{inp.key}:before-due", application_id=inp.application_id, kind="delivery-problem",
                        role="supervisor", message=f"{inp.application_id} 的文书无法在答复期限 {inp.due_on} 前送出"
                        f"（已尝试 {attempts} 次：{type(error).__name__}: {error}），请安排其他方式送达"))
            # The total number of tries travels with the error, for the workflow's view of the letter.
            raise ApplicationError(str(error), attempts, type=type(error).__name__) from error
        with session_scope(self._engine) as session:
            # Proof of service: the instant the server answered DATA and its answer, with the Message-ID.
            sent = dict(status="sent", attempts=row.attempts + 1, last_error=None, sent_at=accepted_at,
                        message_id=email["Message-ID"], smtp_reply=smtp_reply, served_method="email")
            repo.set_outbox(session, inp.key, **sent)
            for name, value in sent.items():  # the row as now stored (read before the send: not read again)
                setattr(row, name, value)
            if on_outcome is not None:
                on_outcome(session, row, document)
            return self._result(row)

    def _fail_permanently(self, inp: SendLetterInput, error: str) -> SendLetterResult:
        with session_scope(self._engine) as session:
            row = repo.update_outbox(session, inp.key, status="failed", last_error=error[:500])
            repository.insert_staff_alert(session, StaffAlertInput(
                key=f"{inp.key}:failed", application_id=inp.application_id, kind="delivery-problem", role="supervisor",
                message=f"{inp.application_id} 的文书无法通过电子邮件送出（{error[:200]}），请改为邮寄或联系申请人"))
            return self._result(row)

    def _smtp_transaction(self, key: str, row: LetterOutbox, email: Message) -> tuple[datetime, str]:
        """MAIL, RCPT, DATA; the instant the server accepted the message and its reply (proof of service)."""
        settings = self._settings
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds,
                          local_hostname=_local_hostname()) as smtp:
            smtp.ehlo_or_helo_if_needed()
            # RULES §3 Service: acceptance here is only dispatch; a DSN-capable relay reports the delivery into the
            # addressee's system (or its failure) to the return path, tagged with the letter's key (RFC 3461).
            dsn = smtp.has_extn("dsn")
            return_path = settings.smtp_return_path or settings.smtp_sender
            code, answer = smtp.mail(return_path, ["RET=HDRS", f"ENVID={xtext(key)}"] if dsn else [])
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, answer, return_path)
            code, answer = smtp.rcpt(row.email, [NOTIFY_ALL, f"ORCPT=rfc822;{xtext(row.email)}"] if dsn else [])
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({row.email: (code, answer)})
            # The point of no return: recorded before the message goes, so a crash from here on is
            # seen by the next try as "may have been sent".
            with session_scope(self._engine) as session:
                repo.set_outbox(session, key, status="sending", sending_at=utcnow(), attempts=row.attempts + 1)
            try:
                code, answer = smtp.data(email.as_bytes(policy=_SMTP_COMPAT))
                accepted_at = utcnow()
            except smtplib.SMTPDataError:
                raise  # a definite refusal: nothing was accepted
            except (OSError, smtplib.SMTPServerDisconnected) as error:
                raise _Uncertain(f"connection lost during DATA: {_describe(error)}") from error
            return accepted_at, f"{code} {answer.decode(errors='replace')}"[:500]

    def _build_email(self, row: LetterOutbox, document: LetterDocument, agency_code: str | None = None) -> Message:
        """The e-mail: the letter's text, its PDF and the reply's attachments, each with its checksum.

        Built with the email package's compat32 classes, whose headers are stored as given (RFC 2047 words for
        the Chinese subject and names, RFC 2231 for file names), not parsed and refolded as EmailMessage's
        are: half the CPU for the same message as a mail client reads it (issue 15 point 2)."""
        email = MIMEMultipart()
        email["Subject"] = Header(f"{document.subject}（{document.document_number}）", "utf-8")
        agency = self._agencies.of(agency_code, row.application_id)  # issue 25: the agency the letter is from
        email["From"] = formataddr((agency.name if agency else self._settings.agency_name,
                                    (agency.mail_sender if agency else None) or self._settings.smtp_sender), "utf-8")
        email["To"] = formataddr((row.recipient_name, row.email), "utf-8")
        email["Date"] = format_datetime(utcnow())
        email["Message-ID"] = self._message_id(row.key)
        attachments = [AttachmentRef(**a) for a in row.attachments]
        released, links = self._released_with(row, document)
        attachments += released
        listing = "".join(f"\n{n}. {a.filename}（SHA-256 {a.sha256}）" for n, a in enumerate(attachments, start=2))
        email.attach(MIMEText(
            f"文号：{document.document_number}\n\n{document.body}\n\n"
            f"附件：\n1. {document.document_number}.pdf（本文书，SHA-256 {document.pdf_sha256}）{listing}\n{links}",
            "plain", "utf-8",
        ))
        email.attach(_attachment(self.files.get_verified(document.pdf_sha256), "application", "pdf",
                                 f"{document.document_number}.pdf"))
        for attachment in attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            email.attach(_attachment(self.files.get_verified(attachment.sha256), maintype or "application",
                                     subtype or "octet-stream", attachment.filename))
        return email

    def _released_with(self, row: LetterOutbox, document: LetterDocument) -> tuple[list[AttachmentRef], str]:
        """The reply's released files as sealed at signature (issue 22; RULES §14): attached when the seal says so
        (small enough, by e-mail), else the signed download links on /track, valid until the seal's date. Only the
        sealed versions (redacted and verified, or needing no removal), never an original kept with the agency."""
        if document.kind != "reply":
            return [], ""
        from db import release_repository
        from release import links

        with Session(self._engine) as session:
            seal = release_repository.seal_of(session, row.application_id)
        if seal is None or not seal.files:
            return [], ""
        if seal.delivery == "attached":
            return [AttachmentRef(attachment_id=0, item_no=f["item_no"], filename=f["filename"], sha256=f["sha256"],
                                  size=f["size"], content_type=f["media_type"]) for f in seal.files], ""
        secret = self._settings.require_jwt_secret()
        base = self._settings.public_base_url.rstrip("/")
        lines = "".join(
            f"\n第 {f['item_no']} 项：{f['filename']}（SHA-256 {f['sha256']}）\n"
            f"{base}{links.link(secret, row.application_id, f['sha256'], seal.link_expires_on)}"
            for f in seal.files)
        return [], (f"\n公开的政府信息文件较大，未随本邮件附送，请通过以下链接下载"
                    f"（有效期至 {seal.link_expires_on}，也可在本机关申请查询页面下载）：{lines}\n")

    def _message_id(self, key: str) -> str:
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        domain = self._settings.smtp_sender.rpartition("@")[2] or "localhost"
        return f"<{digest}@{domain}>"

    @staticmethod
    def _result(row: LetterOutbox) -> SendLetterResult:
        return SendLetterResult(key=row.key, status=row.status, attempts=row.attempts, sent_at=row.sent_at,
                                message_id=row.message_id, last_error=row.last_error)


class _Uncertain(Exception):
    pass


# The generator for compat32 messages with SMTP's line ends (headers are already encoded and folded).
_SMTP_COMPAT = email_policy.compat32.clone(linesep="\r\n")


def _attachment(data: bytes, maintype: str, subtype: str, filename: str) -> MIMEBase:
    part = MIMEBase(maintype, subtype)
    part.set_payload(data)
    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", filename))
    return part


@functools.cache
def _local_hostname() -> str:
    """The name said in EHLO, looked up once per process (smtplib would call socket.getfqdn() on every connection)."""
    return socket.getfqdn()


async def _heartbeating(work):
    """Await `work` (a thread), heartbeating while it runs: a killed worker is noticed in seconds, not after
    the start-to-close timeout. The first heartbeat after FIRST_HEARTBEAT_AFTER (see there)."""
    worker = asyncio.ensure_future(work)
    await asyncio.wait([worker], timeout=FIRST_HEARTBEAT_AFTER)
    while not worker.done():
        activity.heartbeat()
        await asyncio.wait([worker], timeout=HEARTBEAT_SECONDS)
    return worker.result()


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:500]
