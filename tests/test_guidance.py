"""Issue 11 point 15, the pure rules: the practitioners' questions propose the outcome, reasons and basis."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guidance import QUESTIONS, Answers, propose
from guidance.rules import QUESTION_BY_KEY
from outcomes.codes import OutcomeCode, label_of
from outcomes.legal import legal_basis_for

DISCLOSABLE = dict(supplement="clear", nature="disclosure", responsible="this-agency", exists="yes",
                   exemption="none", third_party="none")

TABLE = [
    # (answers, outcome, words the reasons must contain, citation the basis must contain)
    (dict(supplement="still-unclear"), "unavailable-3", "补正后的申请内容仍不明确", "第三十条"),
    (dict(supplement="clear", nature="petition"), "not-processed-1", "信访、投诉、举报", "第三十九条第一款"),
    (dict(supplement="clear", nature="publication", where="邮局订阅"), "not-processed-3", "可以通过邮局订阅获取", "第三十九条第二款"),
    (dict(supplement="clear", nature="repeat", earlier_application_id="2026-000123"), "not-processed-2",
     "申请编号：2026-000123", "第三十六条第（六）项"),
    (dict(supplement="clear", nature="confirmation"), "not-processed-5", "确认或重新出具", "第二条"),
    (dict(supplement="clear", nature="excessive"), "not-processed-4", "明显超过合理范围", "第三十五条"),
    (dict(supplement="clear", nature="consultation"), "other-3", "咨询", "有关规定"),
    (dict(supplement="clear", nature="disclosure", responsible="other-agency", referral="市税务局，电话 0591-12366"),
     "unavailable-1", "负责公开该政府信息的机关为市税务局，电话 0591-12366", "第三十六条第（五）项"),
    (dict(supplement="clear", nature="disclosure", responsible="other-agency"),
     "unavailable-1", "无法确定负责公开该政府信息的机关", "第三十六条第（五）项"),
    (dict(supplement="clear", nature="disclosure", responsible="this-agency", exists="no"),
     "unavailable-1", "该政府信息不存在", "第三十六条第（四）项"),
    (dict(supplement="clear", nature="disclosure", responsible="this-agency", exists="needs-creation"),
     "unavailable-2", "加工、分析", "第三十八条"),
    (DISCLOSABLE | dict(exemption="withheld-1", separable="no"), "withheld-1", "属于国家秘密，依法不予公开", "第十四条"),
    (DISCLOSABLE | dict(exemption="withheld-6", separable="no"), "withheld-6", "过程性信息", "第十六条第二款"),
    (DISCLOSABLE | dict(third_party="objected", separable="no"), "withheld-4", "第三方不同意公开且理由合理", "第十五条"),
    (DISCLOSABLE | dict(third_party="silent-harm", separable="no"), "withheld-4", "逾期未提出意见", "第三十二条"),
    (DISCLOSABLE | dict(exemption="withheld-5", separable="yes", form="as-requested"), "partly-disclosed",
     "其余部分能够作区分处理，予以公开", "第三十七条"),
    (DISCLOSABLE | dict(form="as-requested"), "disclosed", "予以公开", "第三十六条第（二）项"),
    (DISCLOSABLE | dict(form="already-public", where="本局门户网站“法定主动公开内容”栏目"), "disclosed",
     "可以通过本局门户网站“法定主动公开内容”栏目获取", "第三十六条第（一）项"),
    (DISCLOSABLE | dict(third_party="overridden", form="as-requested"), "disclosed", "对公共利益造成重大影响", "第三十六条"),
]


@pytest.mark.parametrize(("answers", "outcome", "words", "citation"), TABLE)
def test_each_answer_path_proposes_its_outcome_with_reasons_and_basis(answers, outcome, words, citation):
    g = propose(Answers(**answers), requested_form="电子邮件")
    assert g.complete and g.action == "propose-decision"
    assert g.outcome == outcome and g.outcome_label == label_of(OutcomeCode(outcome))
    assert words in g.reasons and "《中华人民共和国政府信息公开条例》" in g.legal_basis
    assert citation in g.legal_basis


def test_supplement_needed_is_a_notice_not_an_outcome():
    g = propose(Answers(supplement="needs-supplement", nature="petition"))
    assert g.complete and g.action == "request-supplement" and g.outcome is None
    assert "7个工作日内一次性告知" in g.reasons and "第三十条" in g.reasons


def test_questions_are_asked_in_order_and_the_first_unanswered_one_is_named():
    assert propose(Answers()).next_question == "supplement"
    assert propose(Answers(supplement="clear")).next_question == "nature"
    assert propose(Answers(supplement="clear", nature="repeat")).next_question == "earlier_application_id"
    assert propose(Answers(**(DISCLOSABLE | {"exemption": None}))).next_question == "exemption"
    assert propose(Answers(**(DISCLOSABLE | {"exemption": "withheld-2"}))).next_question == "separable"
    assert propose(Answers(**DISCLOSABLE)).next_question == "form"
    assert [s.short for s in propose(Answers(**DISCLOSABLE, form="as-requested")).steps] == [
        "补不补", "是不是", "谁负责", "有没有", "给不给", "给不给", "怎么给"]


def test_partial_disclosure_names_the_withheld_ground_and_how_the_rest_is_provided():
    g = propose(Answers(**(DISCLOSABLE | dict(third_party="objected", separable="yes", form="other-form",
                                              where="现场查阅"))))
    assert g.outcome == "partly-disclosed" and g.withheld_ground == "withheld-4"
    assert "以现场查阅的形式提供" in g.provision and "第四十条" in g.provision


def test_disclosure_in_the_requested_form_says_which_form():
    g = propose(Answers(**DISCLOSABLE, form="as-requested"), requested_form="邮寄纸质件")
    assert g.provision == "按申请人要求的形式（邮寄纸质件）提供（《中华人民共和国政府信息公开条例》第四十条）"


def test_choices_are_valid_answers():
    for q in QUESTIONS:
        for value in q.choices:
            Answers(**{q.key: value})  # every offered choice is accepted by the model
    with pytest.raises(ValueError):
        Answers(nature="maybe")


answer_values = st.fixed_dictionaries({q.key: st.one_of(st.none(), st.sampled_from(sorted(q.choices)))
                                       for q in QUESTIONS}, optional={
    "referral": st.sampled_from(["市税务局，电话 0591-12366", ""]),
    "earlier_application_id": st.sampled_from(["2026-000001"]),
    "where": st.sampled_from(["现场查阅", "本局网站"]),
})


@settings(max_examples=400)
@given(answer_values)
def test_any_answers_give_either_the_next_question_or_a_complete_lawful_proposal(values):
    g = propose(Answers(**values))
    if not g.complete:
        assert g.next_question in (*QUESTION_BY_KEY, "earlier_application_id") and g.outcome is None
        assert values.get(g.next_question) in (None, "")
        return
    if g.action == "request-supplement":
        assert values["supplement"] == "needs-supplement"
        return
    assert g.outcome is not None
    # Never a system-only outcome (其他处理-1, -2 come from deadlines, not from the handler).
    assert g.outcome not in ("other-1", "other-2")
    # Every outcome other than 予以公开 states reasons (the workflow refuses it otherwise), citing the Regulation.
    assert "《中华人民共和国政府信息公开条例》" in g.reasons or g.outcome == "disclosed"
    assert g.legal_basis.startswith("《中华人民共和国政府信息公开条例》")
    # The basis drafted is the one the reply letter will cite for the item (36(5) for information that is not
    # this agency's, its competent agency named or not; 36(4) when it does not exist).
    assert g.legal_basis == legal_basis_for(g.outcome, referral=g.referral, not_this_agency=g.not_this_agency).citation()
    assert g.not_this_agency == (values.get("responsible") == "other-agency" and g.outcome == "unavailable-1")
    if g.outcome == "partly-disclosed":
        assert g.withheld_ground is not None and g.withheld_ground.startswith("withheld-")
    if g.outcome in ("disclosed", "partly-disclosed"):
        assert g.provision and values["form"] is not None
        # Nothing subject to a ground or an unresolved objection is disclosed whole.
        assert g.outcome == "partly-disclosed" or (
            values["exemption"] == "none" and values["third_party"] not in ("objected", "silent-harm"))
    # The steps name each question answered on the way, in the order asked.
    order = [q.key for q in QUESTIONS]
    asked = [s.question for s in g.steps]
    assert asked == sorted(asked, key=order.index)


@given(answer_values)
def test_answers_after_the_deciding_question_do_not_change_the_proposal(values):
    g = propose(Answers(**values))
    if not g.complete:
        return
    decided_at = g.steps[-1].question
    later = [q.key for q in QUESTIONS][[q.key for q in QUESTIONS].index(decided_at) + 1:]
    changed = dict(values) | {k: None for k in later if k != "form" or g.outcome not in ("disclosed", "partly-disclosed")}
    assert propose(Answers(**changed)).model_dump() == g.model_dump()


def test_reg_36_1_when_already_public_and_36_2_when_provided_now_never_both():
    """Issue 24 point 5: the guidance decides which; 36(1) says where, and the reply cites only that one."""
    asked = propose(Answers(**DISCLOSABLE, form="already-public"))
    assert not asked.complete and asked.next_question == "where"
    public = propose(Answers(**DISCLOSABLE, form="already-public", where="本局门户网站“统计数据”栏目"))
    assert public.legal_basis == "《中华人民共和国政府信息公开条例》第三十六条第（一）项"
    assert public.published_at == "本局门户网站“统计数据”栏目"
    now = propose(Answers(**DISCLOSABLE, form="as-requested"))
    assert now.legal_basis == "《中华人民共和国政府信息公开条例》第三十六条第（二）项" and now.published_at is None
