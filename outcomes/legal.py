"""Legal basis of each outcome: the provisions a reply letter cites and reports refer to.

Articles are those of the 2019 Regulation (政府信息公开条例, State Council Decree 711).
"""

from dataclasses import dataclass

from outcomes.codes import OutcomeCode

REGULATION = "《中华人民共和国政府信息公开条例》"
FEE_MEASURES = "《政府信息公开信息处理费管理办法》（国办函〔2020〕109号）"


@dataclass(frozen=True)
class LegalBasis:
    provisions: tuple[str, ...]
    """Provisions of the Regulation, e.g. 第三十六条第（三）项; empty when no single provision applies."""
    other_sources: tuple[str, ...] = ()

    def citation(self) -> str:
        regulation = REGULATION + ("、".join(self.provisions) if self.provisions else "有关规定")
        return "、".join((regulation, *self.other_sources))


_REFUSAL = "第三十六条第（三）项"

LEGAL_BASIS: dict[OutcomeCode, LegalBasis] = {
    # Reg. 36(2) (provided now); 36(1) when it was already proactively disclosed: legal_basis_for (issue 24 point 5).
    OutcomeCode.DISCLOSED: LegalBasis(("第三十六条第（二）项",)),
    OutcomeCode.PARTLY_DISCLOSED: LegalBasis(("第三十七条",)),
    OutcomeCode.WITHHELD_STATE_SECRET: LegalBasis(("第十四条", _REFUSAL)),
    OutcomeCode.WITHHELD_LAW_PROHIBITS: LegalBasis(("第十四条", _REFUSAL)),
    OutcomeCode.WITHHELD_THREE_SECURITIES: LegalBasis(("第十四条", _REFUSAL)),
    OutcomeCode.WITHHELD_THIRD_PARTY: LegalBasis(("第十五条", "第三十二条", _REFUSAL)),
    OutcomeCode.WITHHELD_INTERNAL_AFFAIRS: LegalBasis(("第十六条第一款", _REFUSAL)),
    OutcomeCode.WITHHELD_PROCESS_INFO: LegalBasis(("第十六条第二款", _REFUSAL)),
    OutcomeCode.WITHHELD_ENFORCEMENT_FILE: LegalBasis(("第十六条第二款", _REFUSAL)),
    OutcomeCode.WITHHELD_ADMIN_QUERY: LegalBasis(("第三十六条第（七）项",)),
    # Reg. 36(4): searched, the information does not exist; 36(5): not this agency's to disclose (cited
    # instead when the competent agency is named: see legal_basis_for).
    OutcomeCode.UNAVAILABLE_NOT_HELD: LegalBasis(("第三十六条第（四）项",)),
    OutcomeCode.UNAVAILABLE_NEEDS_CREATION: LegalBasis(("第三十八条",)),
    OutcomeCode.UNAVAILABLE_STILL_UNCLEAR: LegalBasis(("第三十条",)),
    OutcomeCode.NOT_PROCESSED_PETITION: LegalBasis(("第三十九条第一款",)),
    OutcomeCode.NOT_PROCESSED_REPEAT: LegalBasis(("第三十六条第（六）项",)),
    OutcomeCode.NOT_PROCESSED_PUBLICATION: LegalBasis(("第三十九条第二款",)),
    OutcomeCode.NOT_PROCESSED_EXCESSIVE: LegalBasis(("第三十五条",)),
    # The Regulation has no express provision for requests to confirm or re-issue information the
    # applicant already holds; 第二条 (what government information is) is the usual citation.
    OutcomeCode.NOT_PROCESSED_CONFIRMATION: LegalBasis(("第二条",)),
    OutcomeCode.OTHER_NO_SUPPLEMENT: LegalBasis(("第三十条",)),
    OutcomeCode.OTHER_FEE_UNPAID: LegalBasis(("第四十二条",), (FEE_MEASURES,)),
    OutcomeCode.OTHER: LegalBasis(()),
}


def legal_basis_of(code: OutcomeCode) -> LegalBasis:
    return LEGAL_BASIS[code]


# Reg. 36(5): 所申请公开信息不属于本行政机关负责公开的，告知申请人并说明理由；能够确定负责公开该政府信息的
# 行政机关的，告知申请人该行政机关的名称、联系方式.
NOT_THIS_AGENCY = LegalBasis(("第三十六条第（五）项",))


# Issue 24 point 5: 予以公开 cites one of the two, never both: Reg. 36(1) 所申请公开信息已经主动公开的，告知申请人获取该
# 政府信息的方式、途径; Reg. 36(2) 所申请公开信息可以公开的，向申请人提供该政府信息，或者告知申请人获取该政府信息的方式、途径和时间.
ALREADY_PUBLIC = LegalBasis(("第三十六条第（一）项",))
PROVIDED_NOW = LEGAL_BASIS[OutcomeCode.DISCLOSED]


def legal_basis_for(code: OutcomeCode, *, referral: str | None = None, not_this_agency: bool = False,
                    published_at: str | None = None) -> LegalBasis:
    """The basis one item cites: 无法提供-1 for information that is not this agency's to disclose is Reg. 36(5),
    whether or not the competent agency can be named (a named one implies it); otherwise (searched, it does
    not exist) 36(4). 予以公开 is 36(1) when it was already proactively disclosed (`published_at`: where),
    otherwise 36(2) (provided now)."""
    if code == OutcomeCode.UNAVAILABLE_NOT_HELD and (referral or not_this_agency):
        return NOT_THIS_AGENCY
    if code == OutcomeCode.DISCLOSED:
        return ALREADY_PUBLIC if published_at else PROVIDED_NOW
    return LEGAL_BASIS[code]
