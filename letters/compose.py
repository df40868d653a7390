"""The text of every notice sent to applicants and third parties, in the statute's own terms."""

from collections.abc import Callable, Iterable
from datetime import date

from contracts.models import ComposeLetterInput, Letter, LetterKind, ReplyItem
from outcomes import OutcomeCode, label_of
from outcomes.legal import REGULATION, legal_basis_for


# Issue 24 point 6: a letter of the embedded system on example settings (make run) says so where it is signed.
EXAMPLE_MARK = "（示例机关，示例文书不得对外使用）"


class LetterInputError(ValueError):
    """The input lacks something the letter must state; retrying cannot fix it."""


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _by(day: date) -> str:
    """A deadline that includes its last day: periods end at the end of their last working day."""
    return f"{chinese_date(day)}（含当日）前"


def compose_letter(inp: ComposeLetterInput) -> Letter:
    title, paragraphs = _COMPOSERS[inp.kind](inp)
    body = "\n\n".join(
        [
            title,
            f"（申请编号：{inp.application_id}）",
            f"{inp.recipient_name}：",
            *paragraphs,
            f"{inp.agency_name}{EXAMPLE_MARK if inp.example_mark else ''}\n{chinese_date(inp.letter_date)}",
        ]
    )
    return Letter(kind=inp.kind, subject=f"{title}（{inp.application_id}）", body=body)


def _acknowledgment(inp: ComposeLetterInput) -> tuple[str, list[str]]:
    due_on = _required_deadline(inp, "答复期限")
    return "政府信息公开申请登记回执", [
        f"本机关于{chinese_date(inp.received_on)}收到您提出的政府信息公开申请，已予登记，"
        f"申请编号为{inp.application_id}。请在查询、补正或者咨询时提供该编号。",
        # Issue 11 point 6: promise only the letters that are sent. The supplement notice (Reg. 30) and
        # the extension notice (Reg. 33) are sent; a consultation (Reg. 32, 34) sends the applicant no letter.
        f"本机关将依法于{_by(due_on)}作出答复。需要您补正申请内容的，答复期限自本机关收到补正后的申请之日起重新计算；"
        "经批准延长答复期限的，答复期限相应延长；以上情形本机关将另行书面告知。"
        "征求第三方或者其他机关意见所需时间，不计算在答复期限内。",
    ]


def _supplement_notice(inp: ComposeLetterInput) -> tuple[str, list[str]]:
    """Reg. 30: one notice of everything needed, with a reasonable period counted from its receipt (RULES §3)."""
    by_when = _from_receipt(inp, "补正期限", "本告知书")
    if not inp.needed:
        raise LetterInputError("a supplement notice must list everything the applicant has to supply")
    unclear = f"经审查，{inp.reasons}" if inp.reasons else "经审查，您的申请内容不明确"
    return "补正申请告知书", [
        f"本机关于{chinese_date(inp.received_on)}收到您提出的政府信息公开申请。{unclear}。"
        f"根据{REGULATION}第三十条的规定，现一次性告知您需要补正的全部事项：",
        _numbered(inp.needed),
        f"请{by_when}向本机关提交补正材料。答复期限自本机关收到补正后的申请之日起重新计算。",
        *([f"您可以登录 {inp.track_link} ，凭申请编号{inp.application_id}和查询码在线提交补正。"] if inp.track_link else []),
        "您无正当理由逾期不补正的，视为放弃申请，本机关不再处理该政府信息公开申请。",
    ]


def _extension_notice(inp: ComposeLetterInput) -> tuple[str, list[str]]:
    new_due_on = _required_deadline(inp, "延长后的答复期限")
    if not inp.extension_days:
        raise LetterInputError("an extension notice must state how many working days are added")
    _require_reasons(inp, "an extension notice must give the reasons for the extension")
    return "延期答复告知书", [
        f"本机关于{chinese_date(inp.received_on)}收到您提出的政府信息公开申请。因{inp.reasons}，"
        "本机关不能在规定期限内作出答复。",
        f"根据{REGULATION}第三十三条第二款的规定，经本机关政府信息公开工作机构负责人同意，"
        f"答复期限延长{inp.extension_days}个工作日，本机关将于{_by(new_due_on)}作出答复。",
    ]


def _reasons_request(inp: ComposeLetterInput) -> tuple[str, list[str]]:
    """Reg. 35: quantity or frequency clearly beyond a reasonable range: the agency may ask for reasons."""
    by_when = _from_receipt(inp, "说明理由的期限", "本告知书")
    _require_reasons(inp, "a request for reasons must say what exceeds a reasonable range")
    return "说明申请理由告知书", [
        f"本机关于{chinese_date(inp.received_on)}收到您提出的政府信息公开申请。经审查，您申请公开政府信息的数量、"
        f"频次明显超过合理范围（{inp.reasons}）。",
        f"根据{REGULATION}第三十五条的规定，请您{by_when}向本机关书面说明申请理由。",
        "本机关认为申请理由不合理的，将告知您不予处理；认为申请理由合理，但是无法在规定期限内答复的，"
        "将确定延迟答复的合理期限并告知您。在此期间，答复期限继续计算。",
    ]


def _reasonable_period_notice(inp: ComposeLetterInput) -> tuple[str, list[str]]:
    """Reg. 35: the reasons are reasonable but the period cannot be met: a longer reasonable period."""
    new_due_on = _required_deadline(inp, "延迟答复的合理期限")
    _require_reasons(inp, "a reasonable-period notice must say why the period cannot be met")
    return "延迟答复告知书", [
        f"本机关于{chinese_date(inp.received_on)}收到您提出的政府信息公开申请，并已收到您说明的申请理由。"
        f"经审查，本机关认为您的申请理由合理，但因{inp.reasons}，无法在规定期限内答复。",
        f"根据{REGULATION}第三十五条的规定，本机关确定延迟答复的合理期限，将于{_by(new_due_on)}作出答复。",
    ]


def _consultation_letter(inp: ComposeLetterInput) -> tuple[str, list[str]]:
    """Reg. 32: the third party has 15 working days from *receiving* the letter.

    Letters composed before issue 11 named a date counted from the letter's own date; a letter
    composed without `deadline_on` names no date, because the window runs from its receipt.
    """
    _require_items(inp, "a consultation letter must say which information is requested")
    by_date = f"，即于{_by(inp.deadline_on)}" if inp.deadline_on else ""
    return "第三方意见征询函", [
        f"本机关于{chinese_date(inp.received_on)}收到政府信息公开申请，申请公开的下列政府信息"
        "可能涉及您（单位）的商业秘密、个人隐私等合法权益：",
        _numbered(item.description for item in inp.items),
        *([f"说明：{inp.reasons}"] if inp.reasons else []),
        f"根据{REGULATION}第三十二条的规定，现书面征求您（单位）的意见。请自收到本函之日起15个工作日内"
        f"{by_date}书面提出是否同意公开的意见；不同意公开的，请说明理由。",
        f"逾期未提出意见的，由本机关依照{REGULATION}的规定决定是否公开。",
        *([f"您（单位）也可以通过以下链接在线查看征求意见事项并提交意见（仅限本次使用）：{inp.answer_link}"]
          if inp.answer_link else []),
    ]


def _agency_consultation_letter(inp: ComposeLetterInput) -> tuple[str, list[str]]:
    """Reg. 34: a co-producing agency has 15 working days from receipt; its silence counts as consent."""
    _require_items(inp, "a consultation letter must say which information is requested")
    return "政府信息公开征求意见函", [
        f"本机关于{chinese_date(inp.received_on)}收到政府信息公开申请，申请公开的下列政府信息"
        "由本机关与贵机关共同制作：",
        _numbered(item.description for item in inp.items),
        *([f"说明：{inp.reasons}"] if inp.reasons else []),
        f"根据{REGULATION}第三十四条的规定，现征求贵机关对公开上述政府信息的意见。"
        "请贵机关自收到本函之日起15个工作日内书面提出意见；逾期未提出意见的，视为同意公开。",
    ]


def _override_notice(inp: ComposeLetterInput) -> tuple[str, list[str]]:
    _require_items(inp, "an override notice must say what is disclosed")
    _require_reasons(inp, "an override notice must say why not disclosing would harm the public interest")
    return "政府信息公开决定告知书", [
        "本机关在办理政府信息公开申请过程中，就下列政府信息征求了您（单位）的意见，您（单位）不同意公开。",
        f"经审查，本机关认为不公开可能对公共利益造成重大影响，根据{REGULATION}第三十二条的规定，"
        "决定予以公开。现将决定公开的政府信息内容和理由书面告知如下。",
        "决定公开的内容：\n" + _numbered(item.description for item in inp.items),
        f"理由：{inp.reasons}",
        *(["本机关作出决定前听取了以下意见：\n" + _numbered(inp.heard)] if inp.heard else []),
        _remedies(inp),
    ]


def _objection_unreasonable_notice(inp: ComposeLetterInput) -> tuple[str, list[str]]:
    """RULES §5 (Reg. 15, 32; issue 24 point 3): an objection without reasonable grounds does not bind the agency; the
    third party is told in writing, before the reply goes out, what will be disclosed, why, and its remedies. This is
    not the public-interest override."""
    _require_items(inp, "the notice must say what will be disclosed")
    _require_reasons(inp, "the notice must say why the objection's grounds are not reasonable")
    return "第三方意见不予采纳告知书", [
        "本机关在办理政府信息公开申请过程中，就下列政府信息书面征求了您（单位）的意见，您（单位）不同意公开。",
        f"经审查，本机关认为您（单位）不同意公开的理由不合理，根据{REGULATION}第十五条、第三十二条的规定，"
        "决定予以公开。现将决定公开的政府信息内容和理由书面告知如下。",
        "决定公开的内容：\n" + _numbered(item.description for item in inp.items),
        f"理由：{inp.reasons.strip().rstrip('。')}。",
        *(["本机关作出决定前听取了以下意见：\n" + _numbered(inp.heard)] if inp.heard else []),
        "本机关将在向申请人答复时公开上述政府信息。",
        _remedies(inp),
    ]


def _fee_notice(inp: ComposeLetterInput) -> tuple[str, list[str]]:
    """Reg. 42 and 国办函〔2020〕109号: basis, standard, how the amount was counted, the amount, how to pay (the
    agency's payment channel, a setting), 20 working days from receipt, what happens unpaid; and the remedies, like
    every decision letter (issue 24 points 1, 2). The 20 working days run from the notice's receipt (RULES §3)."""
    if inp.period_days is None:
        _required_deadline(inp, "缴费期限")
    by_when = ("自收到本通知之日起20个工作日内" if inp.period_days is not None
               else f"自收到本通知之日起20个工作日内，即于{_by(inp.deadline_on)}")
    if inp.fee_amount_yuan is None:
        raise LetterInputError("a fee notice must state the amount")
    _require_reasons(inp, "a fee notice must state the basis and standard")
    if not inp.fee_payment:
        raise LetterInputError("a fee notice must state how to pay (the agency's payment channel is not set)")
    return "政府信息公开信息处理费缴费通知书", [
        f"本机关于{chinese_date(inp.received_on)}收到您提出的政府信息公开申请。经审查，您申请公开政府信息的数量、频次"
        f"明显超过合理范围，根据{REGULATION}第四十二条和《政府信息公开信息处理费管理办法》（国办函〔2020〕109号）的规定，"
        "本机关依法收取信息处理费。",
        f"收费标准及依据：{inp.reasons}。",
        *([f"计算方法：{inp.fee_counted}。"] if inp.fee_counted else []),
        f"应缴金额：人民币{inp.fee_amount_yuan}元。",
        f"请{by_when}，按以下方式缴纳：{inp.fee_payment}。"
        "缴费时请注明申请编号，缴费后请保留缴款凭证。缴费期间不计算在答复期限内。",
        "您逾期未按本通知要求缴纳费用的，视为放弃申请，本机关不再处理该政府信息公开申请。",
        _remedies(inp, "本通知"),
    ]


def _reply(inp: ComposeLetterInput) -> tuple[str, list[str]]:
    _require_items(inp, "a reply must answer every item of the application")
    return "政府信息公开申请答复告知书", [
        f"本机关于{chinese_date(inp.received_on)}收到您提出的政府信息公开申请，共{len(inp.items)}项。"
        "经审查，现对各项一并答复如下：",
        *(_reply_item(item) for item in sorted(inp.items, key=lambda item: item.item_no)),
        *([inp.reasons] if inp.reasons else []),
        _remedies(inp),
    ]


def _reply_item(item: ReplyItem) -> str:
    if item.outcome != OutcomeCode.DISCLOSED and not item.reasons.strip():
        raise LetterInputError(f"item {item.item_no}: every outcome other than 予以公开 must state its reasons")
    lines = [f"第{item.item_no}项：{item.description}", f"处理结果：{label_of(item.outcome)}"]
    if item.reasons:
        lines.append(f"理由：{item.reasons}")
    if item.outcome == OutcomeCode.DISCLOSED and item.published_at:  # Reg. 36(1): say where
        lines.append(f"获取方式：该信息已主动公开，可以通过{item.published_at}获取")
    elif item.outcome in (OutcomeCode.DISCLOSED, OutcomeCode.PARTLY_DISCLOSED) and item.provision:
        lines.append(f"提供方式：{item.provision}")
    if item.outcome == OutcomeCode.PARTLY_DISCLOSED and item.withheld_ground:
        # Reg. 37: the withheld part's own ground and basis.
        lines.append(f"不予公开部分的理由类别：{label_of(item.withheld_ground)}（依据：{legal_basis_for(item.withheld_ground).citation()}）")
    if item.outcome == OutcomeCode.UNAVAILABLE_NOT_HELD and item.referral:
        lines.append(f"负责公开该政府信息的机关及联系方式：{item.referral}")
    if item.outcome == OutcomeCode.NOT_PROCESSED_REPEAT and item.earlier_application_id:
        lines.append(f"本机关已就您此前提出的相同申请（申请编号：{item.earlier_application_id}）作出答复。")
    lines.append(f"依据：{legal_basis_for(item.outcome, referral=item.referral, not_this_agency=item.not_this_agency, published_at=item.published_at).citation()}。")
    return "\n".join(lines)


def _remedies(inp: ComposeLetterInput, letter: str = "本告知书") -> str:
    """Remedies: reconsideration (行政复议法 art. 20: 60 days), litigation (行政诉讼法 art. 46: 6 months), and
    Reg. 51's complaint route; the bodies are the agency's settings, filled in by the compose activity."""
    body = f"向{inp.reconsideration_body}" if inp.reconsideration_body else ""
    court = f"向{inp.court}" if inp.court else "向人民法院"
    text = (
        f"如对{letter}不服，可以自收到{letter}之日起60日内依法{body}申请行政复议，"
        f"或者自收到{letter}之日起6个月内依法{court}提起行政诉讼。"
    )
    if inp.complaint_body:
        text += (f"认为本机关在政府信息公开工作中侵犯您合法权益的，也可以根据{REGULATION}第五十一条的规定，"
                 f"向{inp.complaint_body}投诉、举报。")
    return text


def _correction_made(inp: ComposeLetterInput) -> tuple[str, list[str]]:
    """Reg. 41 (seed 002 art. 19): the record is corrected and the person told."""
    _require_items(inp, "a correction letter must say which record was asked to be corrected")
    _require_reasons(inp, "a correction letter must say what was corrected")
    return "政府信息更正告知书", [
        f"本机关于{chinese_date(inp.received_on)}收到您提出的更正与您自身相关的政府信息记录的申请：",
        _numbered(item.description for item in inp.items),
        f"经核实，根据{REGULATION}第四十一条的规定，本机关已予更正：{inp.reasons}",
        _remedies(inp),
    ]


def _correction_forwarded(inp: ComposeLetterInput) -> tuple[str, list[str]]:
    """Reg. 41: the agency has no power to correct: forwarded to the competent agency, person told."""
    _require_items(inp, "a forwarding letter must say which record was asked to be corrected")
    if not inp.referral:
        raise LetterInputError("a forwarding letter must name the agency the request was forwarded to")
    return "政府信息更正申请转送告知书", [
        f"本机关于{chinese_date(inp.received_on)}收到您提出的更正与您自身相关的政府信息记录的申请：",
        _numbered(item.description for item in inp.items),
        f"经审查，本机关无权更正该政府信息记录。根据{REGULATION}第四十一条的规定，"
        f"本机关已将您的申请转送有权更正的{inp.referral}处理。" + (f"说明：{inp.reasons}" if inp.reasons else ""),
        _remedies(inp),
    ]


# Reg. 41 (RULES §7): why a correction is refused: the record is accurate, or the evidence does not show it wrong.
CORRECTION_REFUSAL_GROUNDS = {
    True: "经核实，该政府信息记录准确",
    False: "经审查，您提供的证据不能证明该政府信息记录不准确",
}


def _correction_refused(inp: ComposeLetterInput) -> tuple[str, list[str]]:
    """Reg. 41 (RULES §7; issue 24 point 4): 不予更正, in writing, with its reasons and the remedies."""
    _require_items(inp, "a refusal must say which record was asked to be corrected")
    _require_reasons(inp, "a refusal to correct must give its reasons")
    if inp.record_accurate is None:
        raise LetterInputError("a refusal to correct must say whether the record is accurate or the evidence falls short")
    return "不予更正政府信息告知书", [
        f"本机关于{chinese_date(inp.received_on)}收到您提出的更正与您自身相关的政府信息记录的申请：",
        _numbered(item.description for item in inp.items),
        f"{CORRECTION_REFUSAL_GROUNDS[inp.record_accurate]}。理由：{inp.reasons.strip().rstrip('。')}。",
        f"根据{REGULATION}第四十一条的规定，本机关决定不予更正。",
        _remedies(inp),
    ]


def _numbered(entries: Iterable[str]) -> str:
    return "\n".join(f"{number}. {entry}" for number, entry in enumerate(entries, start=1))


def _from_receipt(inp: ComposeLetterInput, what: str, letter: str) -> str:
    """RULES §3 Service: a period that runs from the notice's receipt is stated as such (自收到…之日起N个工作日内);
    a letter composed with a date (`deadline_on`) names the date."""
    if inp.period_days is not None:
        return f"自收到{letter}之日起{inp.period_days}个工作日内"
    return f"于{_by(_required_deadline(inp, what))}"


def _required_deadline(inp: ComposeLetterInput, what: str) -> date:
    if inp.deadline_on is None:
        raise LetterInputError(f"{inp.kind} needs deadline_on ({what})")
    return inp.deadline_on


def _require_items(inp: ComposeLetterInput, why: str) -> None:
    if not inp.items:
        raise LetterInputError(why)


def _require_reasons(inp: ComposeLetterInput, why: str) -> None:
    if not inp.reasons.strip():
        raise LetterInputError(why)


_COMPOSERS: dict[LetterKind, Callable[[ComposeLetterInput], tuple[str, list[str]]]] = {
    "acknowledgment": _acknowledgment,
    "supplement-notice": _supplement_notice,
    "extension-notice": _extension_notice,
    "reasons-request": _reasons_request,
    "reasonable-period-notice": _reasonable_period_notice,
    "consultation-letter": _consultation_letter,
    "agency-consultation-letter": _agency_consultation_letter,
    "override-notice": _override_notice,
    "fee-notice": _fee_notice,
    "reply": _reply,
    "correction-made": _correction_made,
    "correction-forwarded": _correction_forwarded,
    "correction-refused": _correction_refused,
    "objection-unreasonable-notice": _objection_unreasonable_notice,
}
