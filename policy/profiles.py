"""The periods each policy profile sets (RULES §3, §5).

`local` follows the seeds (seed 001 art. 16: 15 working days, one extension of at most 15);
`national-2019` follows Reg. 33 (20 + 20). A profile is copied into the workflow at intake, so a
later change of the agency's default never moves a running application's deadline.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ProfileName = Literal["local", "national-2019"]


class PolicyProfile(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: ProfileName
    reply_days: int = Field(description="答复期限: working days after receipt")
    max_extension_days: int = Field(description="延期: at most this many working days, once")
    supplement_notice_days: int = Field(
        default=7, description="补正告知 must go out within this many working days of receipt (Reg. 30)"
    )
    default_supplement_days: int = Field(
        default=15, description="合理的补正期限 offered to the applicant unless the handler sets another"
    )
    min_supplement_days: int = Field(
        default=10, description="补正期限 at least this many working days from receipt of the notice (Reg. 30 合理的补正期限; "
                                "an agency setting fixed at intake, issue 24 point 10)"
    )
    consultation_days: int = Field(
        default=15, description="第三方/其他机关 answer window in working days (Reg. 32, 34)"
    )
    excessive_reasons_days: int = Field(
        default=15, description="Reg. 35: working days from receipt of the request for reasons to explain them"
    )
    reminder_days_before_due: int = Field(
        default=3, description="remind the handler this many working days before the due date"
    )


PROFILES: dict[str, PolicyProfile] = {
    "local": PolicyProfile(name="local", reply_days=15, max_extension_days=15),
    "national-2019": PolicyProfile(name="national-2019", reply_days=20, max_extension_days=20),
}

DEFAULT_PROFILE: ProfileName = "local"


def profile_named(name: str) -> PolicyProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown policy profile {name!r}; known: {', '.join(PROFILES)}") from None
