"""Credentials: staff passwords (Argon2id), access tokens (JWT HS256), applicants' query codes and
third parties' signed links. Pure functions of their inputs and the settings' secret.

One secret (DISCLOSURE_JWT_SECRET) is split into independent keys by purpose (HMAC-SHA256 with a
label), so an access token can never pass for a third-party link or the other way round.
"""

from core import clock
import base64
import hashlib
import hmac
import secrets
import uuid
from datetime import date, datetime, time, timedelta
from typing import Literal

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core.config import Settings, get_settings
from clock import SHANGHAI  # the one Asia/Shanghai zone (clock/deadline.py)

Role = Literal["registrar", "handler", "reviewer", "supervisor", "admin", "oversight"]
ROLES: tuple[str, ...] = ("registrar", "handler", "reviewer", "supervisor", "admin", "oversight")
ROLE_NAMES = {"registrar": "登记人员", "handler": "承办人", "reviewer": "保密审查人员", "supervisor": "负责人",
              "admin": "系统管理员", "oversight": "政府信息公开工作主管部门"}
# Issue 25 point 5 (Reg. 49, RULES §12): the platform's 主管部门 sees every agency's figures; its token's agency is
# PLATFORM (every agency), so it holds that role alone and is made only by `python admin.py create-oversight`.
PLATFORM = "*"
ALGORITHM = "HS256"
ISSUER = "disclosure-api"

# Argon2id (argon2-cffi's defaults: RFC 9106 low-memory profile, 64 MiB, t=3, p=4).
_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    if len(password) < 12:
        return "密码至少 12 个字符"
    if len(password) > 256:
        return "密码过长"
    return None


def _key(settings: Settings, purpose: str) -> bytes:
    return hmac.new(settings.require_jwt_secret(), purpose.encode(), hashlib.sha256).digest()


# --- staff access tokens -------------------------------------------------------------------------


def issue_access_token(settings: Settings, username: str, token_version: int, *, now: datetime | None = None,
                       agency: str | None = None) -> str:
    """`agency`: the staff member's agency (issue 25): every read of the request is limited to it (api/tenancy.py)."""
    now = now or clock.now()
    claims = {
        "iss": ISSUER, "typ": "access", "sub": username, "ver": token_version, "jti": uuid.uuid4().hex,
        "agency": agency or settings.agency_code,
        "iat": int(now.timestamp()), "exp": int((now + timedelta(minutes=settings.access_token_minutes)).timestamp()),
    }
    return jwt.encode(claims, _key(settings, "access-token"), algorithm=ALGORITHM)


def read_access_token(settings: Settings, token: str) -> dict | None:
    """The claims of a valid, unexpired access token; None for anything else (never raises)."""
    try:
        claims = jwt.decode(token, _key(settings, "access-token"), algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub", "typ", "ver"]})
    except jwt.PyJWTError:
        return None
    return claims if claims.get("typ") == "access" and isinstance(claims.get("sub"), str) else None


# --- applicants' query codes ---------------------------------------------------------------------

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: read aloud on the phone or copied from paper without mistakes.
QUERY_CODE_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
QUERY_CODE_LENGTH = 12  # 25^12 ≈ 2^55.7


def new_query_code() -> str:
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(QUERY_CODE_LENGTH))


def normalise_query_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch not in " -")


def hash_query_code(settings: Settings, application_id: str, code: str) -> str:
    """Keyed hash (HMAC with a server-side key) bound to the application: the table alone reveals nothing."""
    message = f"{application_id}\n{normalise_query_code(code)}".encode()
    return hmac.new(_key(settings, "query-code"), message, hashlib.sha256).hexdigest()


def query_code_matches(settings: Settings, application_id: str, code: str, stored_hash: str | None) -> bool:
    candidate = hash_query_code(settings, application_id, code)
    return hmac.compare_digest(candidate, stored_hash or "0" * 64)


# --- third parties' links ------------------------------------------------------------------------


def link_nonce(settings: Settings, consultation_id: str) -> str:
    """Deterministic per consultation: the same letter, re-rendered on a retry, carries the same link."""
    digest = hmac.new(_key(settings, "third-party-nonce"), consultation_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def third_party_token(
    consultation_id: str, *, expires_on: date | None = None, issued_on: date | None = None,
    settings: Settings | None = None,
) -> str:
    """The signed token of a consultation's link; valid to the end of `expires_on` (Asia/Shanghai).

    Deterministic for given arguments (no clock read when both dates are given), so an activity
    that renders the letter twice produces the same text.
    """
    settings = settings or get_settings()
    issued_on = issued_on or clock.today()
    expires_on = expires_on or issued_on + timedelta(days=settings.third_party_link_days)
    end = datetime.combine(expires_on + timedelta(days=1), time(0), SHANGHAI)
    claims = {"iss": ISSUER, "typ": "third-party", "cid": consultation_id, "nonce": link_nonce(settings, consultation_id),
              "iat": int(datetime.combine(issued_on, time(0), SHANGHAI).timestamp()), "exp": int(end.timestamp())}
    return jwt.encode(claims, _key(settings, "third-party-link"), algorithm=ALGORITHM)


def third_party_link(
    consultation_id: str, *, expires_on: date | None = None, issued_on: date | None = None,
    settings: Settings | None = None,
) -> str:
    """The URL a consultation letter gives the third party: the page with the letter and the answer form
    (api/pages/public.py, over `/api/v1/third-party/{token}`)."""
    settings = settings or get_settings()
    token = third_party_token(consultation_id, expires_on=expires_on, issued_on=issued_on, settings=settings)
    return f"{settings.public_base_url.rstrip('/')}/third-party/{token}"


def read_third_party_token(settings: Settings, token: str, *, verify_expiry: bool = True) -> dict | None:
    """The claims of a genuine link's token. `verify_expiry=False`: also after its own `exp` — the API then holds
    the link open until the consultation's answer window (counted from receipt) ends (issue 23 point 4)."""
    try:
        claims = jwt.decode(token, _key(settings, "third-party-link"), algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["exp", "iat", "cid", "nonce", "typ"], "verify_exp": verify_expiry})
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != "third-party" or not isinstance(claims.get("cid"), str):
        return None
    if not hmac.compare_digest(str(claims.get("nonce")), link_nonce(settings, claims["cid"])):
        return None
    return claims
