"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it receives.

Ports are never probed, closed and reused (another process may take the port in between): a server
binds port 0 and reports the port the kernel gave it, and a test that needs a fixed address across
a server's stop and start (or an address where nothing listens) holds the port with `held_port`.
"""

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from datetime import datetime

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from core import clock
from core.mailsink import DsnSMTP, delivery_reports


@dataclass
class CapturingHandler:
    """Keeps every message; as a DSN-capable relay (RFC 3461) it also keeps the delivery status notification owed
    for each, in `returns`, for a test to hand to the API's returns endpoint (tests.helpers.deliver_returns).
    `rules` (core.mailsink.parse_rules) bounce or delay addresses; `report_at` dates the reports (default: now).
    The session's API is handed every report at once (tests.helpers.relay_returns) except those about addresses
    matching `hold` (fnmatch), which a test delivers itself (tests.helpers.deliver_returns, email_served)."""

    envelopes: list[Envelope] = field(default_factory=list)
    returns: list[bytes] = field(default_factory=list)
    reported: list[bytes] = field(default_factory=list)  # every report ever owed (`returns` are those still pending)
    relayed: list[bytes] = field(default_factory=list)  # those tests.helpers.relay_returns has handed to the APIs
    rules: list[tuple[str, str]] = field(default_factory=list)
    report_at: datetime | None = None
    hold: list[str] = field(default_factory=lambda: ["*@held.example.cn", "*.held.example.cn"])

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-DSN", responses[-1]] if responses else responses

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        reports = delivery_reports(envelope, rules=self.rules, reporting_mta="mx.addressee.example",
                                   at=self.report_at or clock.now())
        self.reported.extend(reports)
        self.returns.extend(reports)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: CapturingHandler

    @property
    def envelopes(self) -> list[Envelope]:
        return self.handler.envelopes


class SmtpController(Controller):
    """aiosmtpd's threaded controller; with port=0 (the default here) `port` is the one the kernel chose."""

    def __init__(self, handler, hostname: str = "127.0.0.1", port: int = 0, **kwargs) -> None:
        super().__init__(handler, hostname=hostname, port=port, **kwargs)

    def factory(self) -> SMTP:
        return DsnSMTP(self.handler, **self.SMTP_kwargs)

    def _trigger_server(self) -> None:
        # Called once the server is bound, before the controller's first connection to it.
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@contextmanager
def held_port(host: str = "127.0.0.1") -> Iterator[int]:
    """A port kept bound (SO_REUSEADDR) but not listening for the whole block.

    Connections to it are refused, the kernel gives it to no one else, and a listener of ours that
    binds it with SO_REUSEADDR (asyncio's and Rust's default) may still listen on it: so a server
    can stop and start again on the same address, and a client can be pointed at a dead port.
    """
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind((host, 0))
        yield holder.getsockname()[1]


@pytest.fixture
def spare_port() -> Iterator[int]:
    """A port on 127.0.0.1 held for the whole test: refused until the test starts a server on it."""
    with held_port() as port:
        yield port


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    handler = CapturingHandler()
    controller = SmtpController(handler)
    controller.start()
    try:
        yield SmtpServer(host="127.0.0.1", port=controller.port, handler=handler)
    finally:
        controller.stop()
