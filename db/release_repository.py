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


def latest_redaction(session: Session, file_id: int) -> ReleaseRedaction | None:
    made = redactions_of(session, file_id)
    return made[-1] if made else None


UNVERIFIED = {"pending": "的删除处理版本正在生成和核验，尚不能公开",
              "done": "最近一次删除处理版本未通过核验（仍可读出被删除的内容），不能公开，请重新作删除处理",
              "failed": "最近一次删除处理版本未能生成，请重新作删除处理"}


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
        latest = latest_redaction(session, release_file.id)
        if latest is not None and not latest.verified:
            # The handler's latest copy is the one meant to leave: until it is made and verified, nothing does.
            blocking.append((release_file, None, UNVERIFIED[latest.state]))
            continue
        accepted = decisions_of(session, release_file.id)
        removed = redacted_seqs(latest_verified_redaction(session, release_file.id))
        for finding in findings_of(session, release_file.sha256):
            if finding.seq not in accepted and finding.seq not in removed:
                blocking.append((release_file, finding, "预审发现的内容既未删除也未说明理由予以公开"))
    return blocking


def file_status(session: Session, application_id: str) -> list[dict]:
    """Each released file with what stands in the way of releasing it, in Chinese naming the page or cell:
    what the application workflow holds for its signature's validator (ReleaseFileStatus)."""
    problems: dict[int, list[str]] = {}
    for release_file, finding, why in open_findings(session, application_id):
        problems.setdefault(release_file.id, []).append(_problem(finding, why))
    return [{"file_id": f.id, "item_no": f.item_no, "filename": f.filename, "problems": problems.get(f.id, [])}
            for f in files_of(session, application_id)]


def _problem(finding: ReleaseFinding | None, why: str) -> str:
    if finding is None:
        return why
    place = finding.ref or f"第 {finding.page} 页"
    return f"{place}的{FINDING_LABELS.get(finding.kind, finding.kind)}（{finding.excerpt}）{why}"


FINDING_LABELS = {
    "id-card": "身份证号码", "phone": "电话号码", "bank-card": "银行卡号", "credit-code": "统一社会信用代码",
    "address": "详细地址", "secret-marking": "密级标志", "unit-level-table": "单位级统计资料",
}


def why_not_sign(session: Session, application_id: str) -> str | None:
    """The Chinese reason a reply cannot be signed because of its files (RULES §14; issue 22 point 4), or None.
    For the signature's Update validator (409 with this reason); the lead wires it in."""
    return _why_blocked(open_findings(session, application_id), "公开的文件尚有未处理的保密预审发现，不能签发：",
                        lambda f: f"第 {f.item_no} 项的文件“{f.filename}”")


def _why_blocked(blocking: list, heading: str, where_of) -> str | None:
    if not blocking:
        return None
    parts = []
    for release_file, finding, why in blocking[:5]:
        parts.append(f"{where_of(release_file)}{_problem(finding, why)}")
    more = f"等共 {len(blocking)} 处" if len(blocking) > 5 else ""
    return heading + "；".join(parts) + more


def cleared_files(session: Session, owner_id: str) -> list[int]:
    """The files (ids) of an application or a draft with nothing standing in the way of their publication."""
    blocked = {release_file.id for release_file, _, _ in open_findings(session, owner_id)}
    return [f.id for f in files_of(session, owner_id) if f.id not in blocked]


def why_not_publish_basis(session: Session, draft_id: str) -> str | None:
    """The Chinese reason a draft cannot be published for comment because of its basis files (issue 26), or None."""
    return _why_blocked(open_findings(session, draft_id), "决策依据文件尚未完成保密审查，不能公开征求意见：",
                        lambda f: f"决策依据文件“{f.filename}”")


def release_manifest(session: Session, application_id: str) -> list[dict]:
    """What leaves for each file, to be sealed (hashed) with the reply (RULES §14 last sentence): the latest verified
    redacted copy, or the file as uploaded when it needs none. Sorted by item and file; each with its sha256."""
    return [released_version(session, release_file) for release_file in files_of(session, application_id)]


def released_version(session: Session, release_file: ReleaseFile) -> dict:
    """What leaves of one file: its latest verified redacted copy, or the file as uploaded when it needs none."""
    redaction = latest_verified_redaction(session, release_file.id)
    if redaction is not None:
        return {"item_no": release_file.item_no, "filename": _pdf_name(release_file.filename),
                "sha256": redaction.released_sha256, "version": "redacted",
                "original_sha256": release_file.sha256, "media_type": "application/pdf"}
    return {"item_no": release_file.item_no, "filename": release_file.filename,
            "sha256": release_file.sha256, "version": "original",
            "original_sha256": release_file.sha256, "media_type": release_file.media_type}


def _pdf_name(filename: str) -> str:
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    return f"{stem}（公开版）.pdf"


def sealed_files(session: Session, application_id: str, items: set[int]) -> list[dict]:
    """What leaves for the items disclosed (SealedFile): the latest verified redacted copy, or the file as uploaded
    when it needs no removal; with the bases of the removals and the reasons findings were released."""
    from db.models_letters import StoredFile

    out = []
    for release_file in files_of(session, application_id):
        if release_file.item_no not in items:
            continue
        redaction = latest_verified_redaction(session, release_file.id)
        accepted = [f"第 {seq} 处：{d.reason}" for seq, d in sorted(decisions_of(session, release_file.id).items())]
        screening = session.get(ReleaseScreening, release_file.sha256)
        pages = screening.pages_total if screening else None  # the released copy has the pages screened
        if redaction is not None and redaction.released_sha256:
            stored = session.get(StoredFile, redaction.released_sha256)
            out.append({"item_no": release_file.item_no, "filename": _pdf_name(release_file.filename),
                        "sha256": redaction.released_sha256, "size": stored.size if stored else 0,
                        "version": "redacted", "original_sha256": release_file.sha256,
                        "media_type": "application/pdf",
                        "bases": sorted({a["basis"] for a in redaction.areas}), "accepted": accepted,
                        "pages": pages})
        else:
            out.append({"item_no": release_file.item_no, "filename": release_file.filename,
                        "sha256": release_file.sha256, "size": release_file.size, "version": "as-uploaded",
                        "original_sha256": release_file.sha256, "media_type": release_file.media_type,
                        "bases": [], "accepted": accepted, "pages": pages})
    return out


def seal_of(session: Session, application_id: str):
    from db.models_release import ReleaseSeal

    return session.get(ReleaseSeal, application_id)


def downloads_of(session: Session, application_id: str):
    from db.models_release import ReleaseDownload

    return list(session.exec(select(ReleaseDownload).where(ReleaseDownload.application_id == application_id)
                             .order_by(col(ReleaseDownload.id))).all())


def manifest_sha256(files: list[dict]) -> str:
    import hashlib
    import json

    canonical = json.dumps(files, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
