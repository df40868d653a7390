"""The signature and the released files (issue 22 point 4; RULES §14). Pure: the workflow's validator and the
seal's activity apply the same rule to the files' state (contracts.release.ReleaseFileStatus).

RULES §14 (seed 002 art. 10, "谁签发、谁把关"; seed 001 公开前保密审查): every file released passes the
confidentiality review; a file of an item to be disclosed may not leave with a finding neither removed by a verified
redaction nor released with a reason, with its latest redaction not verified, or not screened at all.
"""

from contracts.release import ReleaseFileStatus

SHOWN = 5


def why_not_release_files(files: list[ReleaseFileStatus], items: set[int]) -> str | None:
    """The Chinese reason naming each file and page, or None. `items`: the item numbers whose outcome discloses."""
    parts = [f"第 {f.item_no} 项的文件“{f.filename}”{problem}"
             for f in files if f.item_no in items for problem in f.problems]
    if not parts:
        return None
    more = f"等共 {len(parts)} 处" if len(parts) > SHOWN else ""
    return "公开的文件尚有未处理的保密预审发现，不能签发：" + "；".join(parts[:SHOWN]) + more
