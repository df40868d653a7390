"""Files released with a reply (issue 22; RULES §14, Reg. 37): per application item, screened per file hash.

- `release_file`: a file a handler attached to an item (予以公开 / 部分公开); the bytes are a stored file
  (content-addressed, `stored_file`), kept as uploaded: the original stays with the agency. One row per
  (application, item, sha256): the same upload twice is one file. A draft for comment's basis files (起草说明 etc.;
  issue 26) go through the same review: their rows carry the draft's number (ZQ-…) as `application_id`, item 1.
- `release_screening`: the pre-screen of a file's bytes, once per sha256 (a Temporal workflow per hash):
  state, pages done of pages, the PDF pages it was screened on (the file itself, or DOCX/XLSX/CSV/images
  rendered) and the error if the file could not be read.
- `release_finding`: what the screen found, per sha256, in page order (`seq`).
- `release_decision`: a finding accepted for release with a reason (per release_file, by a person).
- `release_redaction`: a redacted copy made from a release_file (in the background, a Temporal workflow per row):
  its areas with their bases, the released PDF's sha256 (a stored file) and the verification's result.
- `release_seal`: at signature, exactly which file versions leave for each item (sha256), with the bases of their
  removals; written once per application (RULES §14: the exact bytes sent are sealed with the reply), and how they
  go (attached to the reply's e-mail, or a download link on /track).
- `release_download`: each download of a released file by the applicant (proof the file reached them).
"""

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from db.columns import JSONDocument, timestamp_column, utcnow


class ReleaseFile(SQLModel, table=True):
    __tablename__ = "release_file"
    __table_args__ = (UniqueConstraint("application_id", "item_no", "sha256", name="uq_release_file_item_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: str = Field(index=True)
    item_no: int
    sha256: str = Field(foreign_key="stored_file.sha256", index=True)
    filename: str
    kind: str = Field(description="pdf | png | jpeg | tiff | docx | xlsx | csv")
    media_type: str
    size: int
    uploaded_by: str
    uploaded_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class ReleaseScreening(SQLModel, table=True):
    __tablename__ = "release_screening"

    sha256: str = Field(primary_key=True, max_length=64)
    state: str = Field(default="pending", description="pending | running | done | failed")
    pages_total: int | None = None
    pages_done: int = 0
    pages_sha256: str | None = Field(default=None, description="the PDF pages screened (a stored file)")
    error: str | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class ReleaseFinding(SQLModel, table=True):
    __tablename__ = "release_finding"
    __table_args__ = (UniqueConstraint("sha256", "seq", name="uq_release_finding_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(index=True)
    seq: int
    page: int
    kind: str
    detail: str
    excerpt: str
    place: list | None = Field(default=None, sa_column=Column(JSONDocument, nullable=True))
    ref: str | None = None
    value_hash: str


class ReleaseDecision(SQLModel, table=True):
    __tablename__ = "release_decision"
    __table_args__ = (UniqueConstraint("release_file_id", "finding_seq", name="uq_release_decision_finding"),)

    id: int | None = Field(default=None, primary_key=True)
    release_file_id: int = Field(foreign_key="release_file.id", index=True)
    finding_seq: int
    reason: str
    decided_by: str
    decided_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class ReleaseRedaction(SQLModel, table=True):
    __tablename__ = "release_redaction"

    id: int | None = Field(default=None, primary_key=True)
    release_file_id: int = Field(foreign_key="release_file.id", index=True)
    areas: list = Field(default_factory=list, sa_column=Column(JSONDocument, nullable=False))
    text_layer: bool = True
    state: str = Field(default="pending", description="pending | done (verified or not) | failed (could not be made)")
    released_sha256: str | None = Field(default=None, description="the released PDF (a stored file)")
    verified: bool = False
    problems: list = Field(default_factory=list, sa_column=Column(JSONDocument, nullable=False))
    made_by: str
    made_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class ReleaseSeal(SQLModel, table=True):
    __tablename__ = "release_seal"

    application_id: str = Field(primary_key=True)
    signed_by: str
    sealed_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    files: list = Field(default_factory=list, sa_column=Column(JSONDocument, nullable=False))
    manifest_sha256: str = Field(description="sha256 of the manifest's canonical JSON")
    delivery: str = Field(description="attached (to the reply's e-mail) | link (download on /track) | none")
    link_expires_on: date | None = None


class ReleaseDownload(SQLModel, table=True):
    __tablename__ = "release_download"

    id: int | None = Field(default=None, primary_key=True)
    application_id: str = Field(index=True)
    sha256: str
    filename: str
    downloaded_on: date
    downloaded_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    client: str = Field(default="", description="the address the request came from")
