"""Messages of the release-file screening (issue 22): one workflow per file hash, one activity."""

from contracts.payload import Payload


class ScreenFileInput(Payload):
    sha256: str
    filename: str
    kind: str


class ScreenFileResult(Payload):
    sha256: str
    state: str  # done | failed
    findings: int = 0
    error: str | None = None


class RedactFileInput(Payload):
    redaction_id: int


class RedactFileResult(Payload):
    redaction_id: int
    state: str  # done | failed
    verified: bool = False
