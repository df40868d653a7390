"""The practitioners' seven questions, asked in order, and the outcome their answers propose. Pure.

补不补 (Reg. 30) → 是不是 (Reg. 2, 35, 36(6), 39) → 谁负责 (Reg. 36(5)) → 有没有 (Reg. 36(4), 38) →
给不给 (Reg. 14-16, 32, 37) → 怎么给 (Reg. 36(1)(2), 40) → 怎么答 (Reg. 36: the reply states the
outcome, its reasons and its basis). The first decisive answer ends the walk; later answers are not
needed. The result is a draft: the handler edits it, and the workflow's own checks (ProposeDecision's
validator) still apply, e.g. 无法提供-3 only after a supplement, 不予处理-4 only after Reg. 35's step.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from outcomes.codes import OutcomeCode, label_of
from outcomes.legal import NOT_THIS_AGENCY, REGULATION, LegalBasis, legal_basis_for

Supplement = Literal["clear", "needs-supplement", "still-unclear"]
Nature = Literal["disclosure", "petition", "publication", "repeat", "confirmation", "excessive", "consultation"]
Responsible = Literal["this-agency", "other-agency"]
Exists = Literal["yes", "no", "needs-creation"]
Exemption = Literal["none", "withheld-1", "withheld-2", "withheld-3", "withheld-4", "withheld-5", "withheld-6",
                    "withheld-7", "withheld-8"]
ThirdParty = Literal["none", "consented", "objected", "objected-unreasonably", "overridden", "silent", "silent-harm"]
Separable = Literal["yes", "no"]
Form = Literal["as-requested", "already-public", "other-form"]


class Question(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    short: str = Field(description="the practitioners' name of the question: 补不补, 是不是, ...")
    prompt: str
    article: str
    choices: dict[str, str]


QUESTIONS: tuple[Question, ...] = (
    # Reg. 30: an unclear application is supplemented once (notice within 7 working days of receipt).
    Question(key="supplement", short="补不补", prompt="申请内容是否明确，需要补正吗？", article="第三十条", choices={
        "clear": "内容明确，无需补正",
        "needs-supplement": "内容不明确，需要一次性告知补正",
        "still-unclear": "已告知补正，补正后仍不明确",
    }),
    # Reg. 39 (petitions; publications), 36(6) (repeats), 35 (excessive), 2 (what government information is).
    Question(key="nature", short="是不是", prompt="是不是政府信息公开申请？", article="第二条、第三十五条、第三十六条第（六）项、第三十九条", choices={
        "disclosure": "是，申请获取政府信息",
        "petition": "以申请形式进行信访、投诉、举报",
        "publication": "要求提供政府公报、报刊、书籍等公开出版物",
        "repeat": "已答复后重复申请相同信息",
        "confirmation": "要求确认或重新出具已获取的信息",
        "excessive": "数量、频次明显超过合理范围，经要求说明理由后理由不合理",
        "consultation": "咨询等其他事项，不是申请获取政府信息",
    }),
    # Reg. 36(5): not this agency's to disclose; name the competent agency and its contact when known.
    Question(key="responsible", short="谁负责", prompt="是否由本机关负责公开？", article="第三十六条第（五）项", choices={
        "this-agency": "本机关制作或保存，由本机关负责公开",
        "other-agency": "不属于本机关负责公开",
    }),
    # Reg. 36(4): searched and it does not exist; Reg. 38: no duty to create or compile information.
    Question(key="exists", short="有没有", prompt="经检索，该政府信息是否存在？", article="第三十六条第（四）项、第三十八条", choices={
        "yes": "存在，本机关已制作或获取",
        "no": "经检索不存在",
        "needs-creation": "没有现成信息，需要另行制作或加工、分析",
    }),
    # Reg. 14 (state secrets, laws, three securities and stability), 15 (third parties), 16 (internal
    # affairs, process information, enforcement files), 36(7) (administrative queries).
    Question(key="exemption", short="给不给", prompt="是否属于不予公开的情形？", article="第十四条、第十五条、第十六条、第三十六条第（七）项", choices={
        "none": "不属于不予公开的情形",
        **{code.value: label_of(code).removeprefix("不予公开：") for code in (
            OutcomeCode.WITHHELD_STATE_SECRET, OutcomeCode.WITHHELD_LAW_PROHIBITS, OutcomeCode.WITHHELD_THREE_SECURITIES,
            OutcomeCode.WITHHELD_THIRD_PARTY, OutcomeCode.WITHHELD_INTERNAL_AFFAIRS, OutcomeCode.WITHHELD_PROCESS_INFO,
            OutcomeCode.WITHHELD_ENFORCEMENT_FILE, OutcomeCode.WITHHELD_ADMIN_QUERY)},
    }),
    # Reg. 32 with 15: the third party's view; silence leaves the decision to the agency.
    Question(key="third_party", short="给不给", prompt="是否涉及第三方合法权益？第三方意见如何？", article="第十五条、第三十二条", choices={
        "none": "不涉及第三方",
        "consented": "第三方同意公开",
        "objected": "第三方不同意公开，理由合理",
        # RULES §5 (issue 24 point 3): an objection without reasonable grounds does not bind the agency.
        "objected-unreasonably": "第三方不同意公开，但理由不合理（负责人记录理由，答复前书面告知第三方）",
        "overridden": "第三方不同意，但负责人认定不公开会对公共利益造成重大影响",
        "silent": "第三方逾期未提出意见，经审查公开不损害其合法权益",
        "silent-harm": "第三方逾期未提出意见，经审查公开会损害其合法权益",
    }),
    # Reg. 37: separable information is disclosed apart from what must be withheld.
    Question(key="separable", short="给不给", prompt="不予公开的内容能否作区分处理？", article="第三十七条", choices={
        "yes": "能够区分，其余部分予以公开",
        "no": "不能区分",
    }),
    # Reg. 36(1) (already disclosed: tell how to get it), 36(2), 40 (form of provision).
    Question(key="form", short="怎么给", prompt="以什么形式提供？", article="第三十六条第（一）项、第（二）项、第四十条", choices={
        "as-requested": "按申请人要求的形式提供",
        "already-public": "已主动公开，告知获取的方式和途径",
        "other-form": "按要求的形式提供可能危及载体安全或成本过高，以其他适当形式提供或安排查阅、抄录",
    }),
)
QUESTION_BY_KEY: dict[str, Question] = {q.key: q for q in QUESTIONS}


class Answers(BaseModel):
    """The handler's answers for one item; None = not answered yet."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    supplement: Supplement | None = None
    nature: Nature | None = None
    responsible: Responsible | None = None
    exists: Exists | None = None
    exemption: Exemption | None = None
    third_party: ThirdParty | None = None
    separable: Separable | None = None
    form: Form | None = None
    referral: str | None = Field(default=None, max_length=500, description="谁负责: the competent agency and its contact")
    earlier_application_id: str | None = Field(default=None, max_length=40, description="是不是: the earlier, answered application")
    where: str | None = Field(default=None, max_length=500,
                              description="怎么给: where it was published, or the other form; 是不是: how to get the publication")


class Step(BaseModel):
    question: str
    short: str
    answer: str
    article: str


class Guidance(BaseModel):
    """怎么答: what the answers propose; `complete` False means `next_question` must be answered first."""

    complete: bool
    next_question: str | None = None
    action: Literal["propose-decision", "request-supplement"] | None = None
    outcome: OutcomeCode | None = None
    outcome_label: str | None = None
    reasons: str = ""
    legal_basis: str = ""
    referral: str | None = None
    not_this_agency: bool = Field(default=False, description="无法提供-1 under Reg. 36(5): not this agency's to disclose")
    earlier_application_id: str | None = None
    withheld_ground: OutcomeCode | None = None
    provision: str | None = None
    published_at: str | None = Field(default=None, description="予以公开 under Reg. 36(1): where it was proactively disclosed")
    steps: list[Step] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="preconditions the workflow will check")


def _reg(article: str) -> str:
    return f"{REGULATION}{article}"


# Reg. 14-16, 36(7): the sentence each ground states, and the article it cites.
WITHHELD_REASONS: dict[OutcomeCode, tuple[str, str]] = {
    OutcomeCode.WITHHELD_STATE_SECRET: ("属于国家秘密", "第十四条"),
    OutcomeCode.WITHHELD_LAW_PROHIBITS: ("属于法律、行政法规禁止公开的政府信息", "第十四条"),
    OutcomeCode.WITHHELD_THREE_SECURITIES: ("公开后可能危及国家安全、公共安全、经济安全、社会稳定", "第十四条"),
    OutcomeCode.WITHHELD_THIRD_PARTY: ("涉及商业秘密、个人隐私等，公开会对第三方合法权益造成损害", "第十五条、第三十二条"),
    OutcomeCode.WITHHELD_INTERNAL_AFFAIRS: ("属于人事管理、后勤管理、内部工作流程等内部事务信息", "第十六条第一款"),
    OutcomeCode.WITHHELD_PROCESS_INFO: ("属于讨论记录、过程稿、磋商信函、请示报告等过程性信息", "第十六条第二款"),
    OutcomeCode.WITHHELD_ENFORCEMENT_FILE: ("属于行政执法案卷信息", "第十六条第二款"),
    OutcomeCode.WITHHELD_ADMIN_QUERY: ("属于有关法律、行政法规对信息的获取有特别规定的行政查询事项，请依照有关法律、行政法规的规定办理",
                                       "第三十六条第（七）项"),
}


def _step(key: str, value: str) -> Step:
    q = QUESTION_BY_KEY[key]
    return Step(question=key, short=q.short, answer=q.choices[value], article=q.article)


def _decided(code: OutcomeCode, reasons: str, steps: list[Step], *, basis: LegalBasis | None = None,
             **extra) -> Guidance:
    basis = basis or legal_basis_for(code, referral=extra.get("referral"), published_at=extra.get("published_at"))
    return Guidance(complete=True, action="propose-decision", outcome=code, outcome_label=label_of(code),
                    reasons=reasons, legal_basis=basis.citation(), steps=steps, **extra)


def _ask(key: str, steps: list[Step]) -> Guidance:
    return Guidance(complete=False, next_question=key, steps=steps)


def propose(answers: Answers, *, requested_form: str = "申请人要求的形式") -> Guidance:
    """Walk the questions in order; the first decisive answer proposes the outcome (or a supplement)."""
    a, steps = answers, []

    # 补不补 — Reg. 30: one notice, within 7 working days of receipt, listing everything needed.
    if a.supplement is None:
        return _ask("supplement", steps)
    steps.append(_step("supplement", a.supplement))
    if a.supplement == "needs-supplement":
        return Guidance(complete=True, action="request-supplement", steps=steps, legal_basis=_reg("第三十条"),
                        reasons="申请内容不明确，应当自收到申请之日起7个工作日内一次性告知申请人作出补正，"
                                f"说明需要补正的事项和合理的补正期限（{_reg('第三十条')}）。")
    if a.supplement == "still-unclear":
        # Reg. 30 with the annual report's 无法提供-3: only after a supplement was asked for and received.
        return _decided(OutcomeCode.UNAVAILABLE_STILL_UNCLEAR,
                        f"经告知补正，您补正后的申请内容仍不明确，本机关无法确定您所需的政府信息（{_reg('第三十条')}）。",
                        steps, notes=["须在告知补正并收到补正之后才能作出"])

    # 是不是 — is this a disclosure application at all?
    if a.nature is None:
        return _ask("nature", steps)
    steps.append(_step("nature", a.nature))
    if a.nature == "petition":  # Reg. 39 para. 1
        return _decided(OutcomeCode.NOT_PROCESSED_PETITION,
                        "您的申请属于以政府信息公开申请的形式进行信访、投诉、举报等活动，本机关不作为政府信息公开申请处理，"
                        f"您可以通过相应渠道提出（{_reg('第三十九条第一款')}）。", steps)
    if a.nature == "publication":  # Reg. 39 para. 2
        route = f"，可以通过{a.where}获取" if a.where else "，可以通过公开发行渠道获取"
        return _decided(OutcomeCode.NOT_PROCESSED_PUBLICATION,
                        f"您要求提供的是政府公报、报刊、书籍等公开出版物{route}（{_reg('第三十九条第二款')}）。", steps)
    if a.nature == "repeat":  # Reg. 36(6): names the earlier, answered application
        if not a.earlier_application_id:
            return _ask("earlier_application_id", steps)
        return _decided(OutcomeCode.NOT_PROCESSED_REPEAT,
                        f"本机关已就您此前提出的申请（申请编号：{a.earlier_application_id}）作出答复，您重复申请公开相同政府信息，"
                        f"本机关不予重复处理（{_reg('第三十六条第（六）项')}）。", steps,
                        earlier_application_id=a.earlier_application_id)
    if a.nature == "confirmation":  # Reg. 2: not a request for government information
        return _decided(OutcomeCode.NOT_PROCESSED_CONFIRMATION,
                        "您的申请系要求本机关确认或重新出具您已获取的信息，不属于获取政府信息的申请"
                        f"（{_reg('第二条')}），本机关不作为政府信息公开申请处理。", steps)
    if a.nature == "excessive":  # Reg. 35: only after the applicant was asked for reasons
        return _decided(OutcomeCode.NOT_PROCESSED_EXCESSIVE,
                        "您申请公开政府信息的数量、频次明显超过合理范围，经要求说明理由，所说明的理由不合理，"
                        f"本机关不予处理（{_reg('第三十五条')}）。", steps,
                        notes=["须先要求申请人说明理由（第三十五条），理由不合理的才能作出"])
    if a.nature == "consultation":  # Reg. 2: 其他处理-3 in the annual report
        return _decided(OutcomeCode.OTHER,
                        f"您提出的是咨询等事项，不属于申请获取政府信息（{_reg('第二条')}），本机关另行答复。", steps)

    # 谁负责 — Reg. 36(5) (cited instead of 36(4): issue 11 point 10).
    if a.responsible is None:
        return _ask("responsible", steps)
    steps.append(_step("responsible", a.responsible))
    if a.responsible == "other-agency":
        who = (f"负责公开该政府信息的机关为{a.referral}，请向其提出申请" if a.referral
               else "本机关无法确定负责公开该政府信息的机关")
        return _decided(OutcomeCode.UNAVAILABLE_NOT_HELD,
                        f"经核实，您申请公开的信息不属于本机关负责公开，{who}（{_reg('第三十六条第（五）项')}）。", steps,
                        basis=NOT_THIS_AGENCY, referral=a.referral or None, not_this_agency=True)

    # 有没有 — Reg. 36(4): does not exist; Reg. 38: no duty to create it.
    if a.exists is None:
        return _ask("exists", steps)
    steps.append(_step("exists", a.exists))
    if a.exists == "no":
        return _decided(OutcomeCode.UNAVAILABLE_NOT_HELD,
                        f"经检索，本机关未制作或获取您申请公开的政府信息，该政府信息不存在（{_reg('第三十六条第（四）项')}）。", steps)
    if a.exists == "needs-creation":
        return _decided(OutcomeCode.UNAVAILABLE_NEEDS_CREATION,
                        "本机关没有您所需的现成信息，需要对现有政府信息进行加工、分析才能形成，本机关不予另行制作"
                        f"（{_reg('第三十八条')}）。", steps)

    # 给不给 — Reg. 14-16 grounds, the third party (Reg. 15, 32), separation (Reg. 37).
    if a.exemption is None:
        return _ask("exemption", steps)
    steps.append(_step("exemption", a.exemption))
    if a.third_party is None:
        return _ask("third_party", steps)
    steps.append(_step("third_party", a.third_party))
    ground: OutcomeCode | None = None
    if a.exemption != "none":
        ground = OutcomeCode(a.exemption)
    elif a.third_party in ("objected", "silent-harm"):
        ground = OutcomeCode.WITHHELD_THIRD_PARTY
    third_party_note = {
        "objected": "，第三方不同意公开且理由合理",
        "silent-harm": "，第三方逾期未提出意见，经审查公开会对其合法权益造成损害",
    }.get(a.third_party, "") if ground == OutcomeCode.WITHHELD_THIRD_PARTY else ""
    if ground is not None:
        sentence, article = WITHHELD_REASONS[ground]
        if a.separable is None:
            return _ask("separable", steps)
        steps.append(_step("separable", a.separable))
        if a.separable == "no":
            verdict = "" if ground == OutcomeCode.WITHHELD_ADMIN_QUERY else "，依法不予公开"
            return _decided(ground, f"经审查，您申请公开的信息{sentence}{third_party_note}{verdict}（{_reg(article)}）。",
                            steps)

    # 怎么给 — Reg. 40: the applicant's form, or another suitable form; Reg. 36(1): already public.
    if a.form is None:
        return _ask("form", steps)
    steps.append(_step("form", a.form))
    published_at = None
    if a.form == "already-public":
        # Reg. 36(1) (issue 24 point 5): already proactively disclosed: the reply says where; 36(2) is not cited.
        if not a.where:
            return _ask("where", steps)
        where = published_at = a.where
        disclosed_reasons = f"您申请的信息已经主动公开，可以通过{where}获取（{_reg('第三十六条第（一）项')}）。"
        provision = f"已主动公开，获取途径：{where}"
    elif a.form == "other-form":
        how = a.where or "安排查阅、抄录"
        disclosed_reasons = ""
        provision = f"按申请人要求的形式提供可能危及政府信息载体安全或者公开成本过高，以{how}的形式提供（{_reg('第四十条')}）"
    else:
        disclosed_reasons = ""
        provision = f"按申请人要求的形式（{requested_form}）提供（{_reg('第四十条')}）"
    if a.third_party == "objected-unreasonably":
        disclosed_reasons += ("第三方不同意公开，但其理由不合理，本机关决定予以公开，并已在答复前将决定公开的内容和理由书面告知第三方"
                              f"（{_reg('第十五条、第三十二条')}）。")
    if a.third_party == "overridden":
        disclosed_reasons += ("第三方不同意公开，但本机关认为不公开会对公共利益造成重大影响，决定予以公开，并将决定公开的内容和理由"
                              f"书面告知第三方（{_reg('第十五条、第三十二条')}）。")

    # 怎么答 — 部分公开 states the withheld part's ground (Reg. 37); 予以公开 states how it is provided.
    if ground is not None:
        sentence, article = WITHHELD_REASONS[ground]
        reasons = (f"经审查，您申请公开的信息中{sentence}{third_party_note}的部分依法不予公开（{_reg(article)}），"
                   f"其余部分能够作区分处理，予以公开（{_reg('第三十七条')}）。" + disclosed_reasons)
        return _decided(OutcomeCode.PARTLY_DISCLOSED, reasons, steps, withheld_ground=ground, provision=provision)
    return _decided(OutcomeCode.DISCLOSED, disclosed_reasons or f"经审查，您申请公开的信息属于可以公开的政府信息，予以公开"
                    f"（{_reg('第三十六条第（二）项')}）。", steps, provision=provision, published_at=published_at)
