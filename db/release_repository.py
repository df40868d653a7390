"""Released files' rows (issue 22): what the API lists and what signing asks (open findings)."""

from sqlmodel import Session, col, select

from db.models_release import ReleaseDecision, ReleaseFile, ReleaseFinding, ReleaseRedaction, ReleaseScreening


def files_of(session: Session, application_id: str) -> list[ReleaseFile]:
    return list(session.exec(
        select(ReleaseFile).where(ReleaseFile.application_id == application_id)
        .order_by(col(ReleaseFile.item_no), col(ReleaseFile.id))
    ).all())


def findings_of(session: Session, sha256: str) -> list[ReleaseFinding]:
    return list(session.exec(
        select(ReleaseFinding).where(ReleaseFinding.sha256 == sha256).order_by(col(ReleaseFinding.seq))
    ).all())


def decisions_of(session: Session, file_id: int) -> dict[int, ReleaseDecision]:
    rows = session.exec(select(ReleaseDecision).where(ReleaseDecision.release_file_id == file_id)).all()
    return {row.finding_seq: row for row in rows}


def redactions_of(session: Session, file_id: int) -> list[ReleaseRedaction]:
    return list(session.exec(
        select(ReleaseRedaction).where(ReleaseRedaction.release_file_id == file_id).order_by(col(ReleaseRedaction.id))
    ).all())


def latest_verified_redaction(session: Session, file_id: int) -> ReleaseRedaction | None:
    verified = [r for r in redactions_of(session, file_id) if r.verified]
    return verified[-1] if verified else None


def redacted_seqs(redaction: ReleaseRedaction | None) -> set[int]:
    return {a["finding_seq"] for a in (redaction.areas if redaction else []) if a.get("finding_seq")}


def open_findings(session: Session, application_id: str) -> list[tuple[ReleaseFile, ReleaseFinding | None, str]]:
    """What still stands in the way of signing (issue 22 point 4): per released file, each finding neither
    removed by its latest verified redaction nor accepted with a reason, and each file not screened yet
    (finding None, with why). The lead wires this into the signature's validator (409 with the reasons)."""
    blocking: list[tuple[ReleaseFile, ReleaseFinding | None, str]] = []
    for release_file in files_of(session, application_id):
        screening = session.get(ReleaseScreening, release_file.sha256)
        if screening is None or screening.state != "done":
            state = screening.state if screening else "pending"
            why = "文件未能读取，不能公开" if state == "failed" else "文件尚未完成保密预审"
            blocking.append((release_file, None, why))
            continue
        accepted = decisions_of(session, release_file.id)
        removed = redacted_seqs(latest_verified_redaction(session, release_file.id))
        for finding in findings_of(session, release_file.sha256):
            if finding.seq not in accepted and finding.seq not in removed:
                blocking.append((release_file, finding, "预审发现的内容既未删除也未说明理由予以公开"))
    return blocking
