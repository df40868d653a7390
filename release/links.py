"""The signed download link of a released file on /track (issue 22 point 5). Pure: no clock, no I/O.

The link names the application, the file's sha256 and the last day it is valid, signed with the server's secret
(HMAC-SHA256, its own label so that no other token of the product can be passed off as one). It is a bearer
credential sent to the applicant only (the reply's e-mail, the /track page after the query code); the route
still serves only a file sealed for that application (never an original kept with the agency).
"""

import hashlib
import hmac
from datetime import date

LABEL = b"disclosure-release-link-v1"


def signature(secret: bytes, application_id: str, sha256: str, expires_on: date) -> str:
    message = f"{application_id}|{sha256}|{expires_on.isoformat()}".encode()
    return hmac.new(hashlib.sha256(LABEL + secret).digest(), message, hashlib.sha256).hexdigest()[:40]


def link(secret: bytes, application_id: str, sha256: str, expires_on: date) -> str:
    return (f"/track/{application_id}/files/{sha256}?expires={expires_on.isoformat()}"
            f"&sig={signature(secret, application_id, sha256, expires_on)}")


def why_not_download(secret: bytes, application_id: str, sha256: str, expires: str, sig: str,
                     today: date) -> str | None:
    """The Chinese reason the link does not open the file, or None."""
    try:
        expires_on = date.fromisoformat(expires)
    except ValueError:
        return "下载链接不完整，请从答复邮件或查询页面重新打开"
    if not hmac.compare_digest(signature(secret, application_id, sha256, expires_on), sig or ""):
        return "下载链接无效，请从答复邮件或查询页面重新打开"
    if today > expires_on:
        return f"下载链接已于 {expires_on} 过期，请联系本机关重新提供"
    return None
