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
    application_id: str | None = None  # told when the copy is made and verified (or not)


class RedactFileResult(Payload):
    redaction_id: int
    state: str  # done | failed
    verified: bool = False


class ReleaseChanged(Payload):
    """Signal to an application (issue 22): its released files changed (uploaded, screened, accepted, redacted,
    verified). The workflow reads their state again (an activity) for the signature's validator."""

    what: str = ""


class ReleaseStatusInput(Payload):
    application_id: str


class ReleaseFileStatus(Payload):
    """One released file as the signature sees it: each problem in Chinese, naming the page (or cell)."""

    file_id: int
    item_no: int
    filename: str
    problems: list[str] = []


class ReleaseStatusResult(Payload):
    files: list[ReleaseFileStatus] = []


class SealReleaseInput(Payload):
    """At signature: seal what leaves for the items disclosed (idempotent per application)."""

    application_id: str
    items: list[int]
    signed_by: str
    delivery_method: str


class SealedFile(Payload):
    item_no: int
    filename: str
    sha256: str
    size: int
    version: str  # redacted | as-uploaded
    original_sha256: str
    media_type: str
    bases: list[str] = []  # the legal bases of the removals (redacted copies)
    accepted: list[str] = []  # findings released with a reason
    pages: int | None = None


class SealReleaseResult(Payload):
    refusal: str | None = None  # why the reply cannot be signed now (nothing sealed)
    files: list[ReleaseFileStatus] = []  # the files' state read with it (for the workflow's view)
    sealed: list[SealedFile] = []
    manifest_sha256: str | None = None
    delivery: str | None = None  # attached | link | none
