"""One application's groups of similar requests (its staff page, issue 13 point 5) are found from the
requests near it only (proactive.from_requests.near_application): the same groups as grouping every
recent request, without comparing every request with every other."""

import random
from datetime import date

from proactive.from_requests import RequestedItem, near_application, requested_often

WORDS = "统计 年度 全市 工业 人口 普查 价格 指数 养老 机构 床位 充电桩 数量 街道 就业 工资 企业 名录 执法 检查".split()


def _items(seed: int) -> list[RequestedItem]:
    rng = random.Random(seed)
    items = [RequestedItem(application_id=f"A{i}", item_no=1, description="".join(rng.sample(WORDS, 4)) + str(i % 7),
                           received_on=date(2026, 1, 1 + i % 28), outcome=None, applicant=f"p{i % 40}") for i in range(300)]
    subject = "全市养老机构床位数统计3fa9c1"
    items += [RequestedItem(application_id=f"B{i}", item_no=1, description=text, received_on=date(2026, 2, 1), outcome=None,
                            applicant=f"q{i}") for i, text in enumerate([subject, f"2025年{subject}", f"{subject}（分区）"])]
    return items


def test_the_groups_of_one_application_are_those_of_all_requests():
    for seed in range(4):
        items = _items(seed)
        for application_id in ("B0", "A3", "A17", "A250"):
            everything = [c.application_ids for c in requested_often(items) if application_id in c.application_ids]
            near = near_application(items, application_id)
            assert len(near) < len(items) // 2
            assert [c.application_ids for c in requested_often(near) if application_id in c.application_ids] == everything
    groups = [c.application_ids for c in requested_often(near_application(_items(0), "B1")) if "B1" in c.application_ids]
    assert len(groups) == 1 and {"B0", "B1", "B2"} <= set(groups[0])


def test_information_withheld_on_a_forbidding_ground_is_never_proposed_for_proactive_disclosure():
    """Issue 23 point 7: 国家秘密, a law's prohibition, 三安全一稳定 (Reg. 14) and 内部事务信息 (Reg. 16) are no candidates."""
    subject = "本局机关内部人事管理办法"

    def asked(outcomes: list[str | None]) -> list[RequestedItem]:
        return [RequestedItem(application_id=f"C{i}", item_no=1, description=subject, received_on=date(2026, 3, 1),
                              outcome=o, applicant=f"r{i}") for i, o in enumerate(outcomes)]

    assert [c.applicants for c in requested_often(asked([None, "disclosed", "withheld-4"]))] == [3]
    for ground in ("withheld-1", "withheld-2", "withheld-3", "withheld-5"):
        assert requested_often(asked([None, "disclosed", ground])) == [], ground
