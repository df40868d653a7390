"""Issue 11 point 12 on the real server: 按件计收 counts the applicant's month from the database (all channels, by
identity), shown with the list it is based on; the fees are kept and reported in the annual report's fee table."""

from datetime import date, timedelta

import pytest
from sqlmodel import Session

from core import clock
from db.models_reports import ApplicationReportRecord
from tests.helpers import act, application_body, eventually, register, send_action, send_registration

IDENTITY = "35010219900101122X"
CHANNELS = ["online", "email", "fax", "in-person", "letter-registered"]


def _applicant(name: str, id_number: str | None, email: str) -> dict:
    return {"name": name, "type": "natural-person", "email": email,
            **({"id_number": id_number} if id_number is not None else {})}


@pytest.mark.dates
async def test_per_application_count_is_the_applicants_month_across_channels_from_the_database(api):
    # Every application is received on the test's first day: the month is its receipt's (RULES §3), so a
    # month turning during the registrations changes nothing.
    today = clock.today()
    last_month = today.replace(day=1) - timedelta(days=1)
    earlier = await register(api, received_on=last_month.isoformat(), applicant=_applicant("钱七", IDENTITY, "q@fees.example.cn"))
    other = await register(api, received_on=today.isoformat(),
                           applicant=_applicant("钱七", "350102198001010003", "q2@fees.example.cn"))
    ids = []
    for n in range(11):
        # The same identity written with spaces or a lower-case check letter is the same applicant.
        written = IDENTITY if n % 2 else " 350102 19900101122x "
        created = await register(api, channel=CHANNELS[n % len(CHANNELS)], received_on=today.isoformat(),
                                 applicant=_applicant("钱七", written, f"q{n}@fees.example.cn"),
                                 items=[{"description": f"2025年统计资料汇编第{n + 1}册"}])  # each a different request
        ids.append(created["application_id"])

    fifth = (await api.get(f"/api/v1/applications/{ids[4]}/fee-count")).json()
    assert fifth["ordinal"] == 5 and fifth["amount_yuan"] == 0 and fifth["month"] == today.strftime("%Y-%m")
    eleventh = await api.get(f"/api/v1/applications/{ids[10]}/fee-count")
    assert eleventh.status_code == 200, eleventh.text
    count = eleventh.json()
    assert count["ordinal"] == 11 and count["amount_yuan"] == 100 and "本月第11件" in count["basis"]
    assert [a["application_id"] for a in count["applications"]] == ids
    assert {a["channel"] for a in count["applications"]} == set(CHANNELS)
    listed = {a["application_id"] for a in count["applications"]}
    assert earlier["application_id"] not in listed and other["application_id"] not in listed

    # The handler does not type the count: it is computed, and a different figure is refused.
    wrong = await send_action(api, ids[10], "fee-proposal", {"standard": "per-application", "quantity": 3,
                                                            "reason": "本月申请数量明显超过合理范围", "by": "wang"})
    assert wrong.status_code == 422 and "本月第11件" in wrong.json()["detail"]
    free = await send_action(api, ids[4], "fee-proposal", {"standard": "per-application",
                                                          "reason": "本月申请数量明显超过合理范围", "by": "wang"})
    assert free.status_code == 409 and "不收费" in free.json()["detail"]
    proposed = await act(api, ids[10], "fee-proposal", {"standard": "per-application",
                                                        "reason": "本月申请数量明显超过合理范围", "by": "wang"})
    assert proposed["fee"]["quantity"] == 11 and proposed["fee"]["amount_yuan"] == 100
    assert proposed["fee"]["standard"] == "per-application" and proposed["fee"]["decision"] == "pending"


async def test_without_the_applicants_identity_nothing_is_registered_so_nothing_goes_uncounted(api):
    # Issue 23 point 5 (Reg. 29, RULES §2): the identity document is required and checked; the count rests on it.
    for written, says in (("", "请填写居民身份证号码"), ("12345X", "应为 18 位"), ("350102199001011234", "校验位")):
        refused = await send_registration(api, application_body(applicant=_applicant("吴十", written, "w@fees.example.cn")))
        assert refused.status_code == 422, refused.text
        assert [e["loc"] for e in refused.json()["errors"]] == [["body", "applicant", "id_number"]]
        assert says in refused.json()["errors"][0]["msg"]
    bare = (await register(api, applicant=_applicant("吴十", None, "w@fees.example.cn")))["application_id"]
    pages_missing = await send_action(api, bare, "fee-proposal", {"standard": "per-page", "reason": "页数很多", "by": "wang"})
    assert pages_missing.status_code == 422 and "页数" in pages_missing.json()["detail"]


async def _fees(api, year: int) -> dict:
    response = await api.get(f"/api/v1/reports/annual/{year}")
    assert response.status_code == 200, response.text
    return response.json()["fees"]


async def _approved(api, email: str, pages: int) -> tuple[str, dict]:
    app_id = (await register(api, applicant=_applicant("郑十一", "350102198505053218", email),  # a request of its own
                             items=[{"description": f"2025年统计资料（{email}）"}]))["application_id"]
    await act(api, app_id, "fee-proposal", {"standard": "per-page", "quantity": pages,
                                            "reason": f"申请公开的信息达{pages}页，数量明显超过合理范围", "by": "wang"})
    return app_id, await act(api, app_id, "fee-decision", {"approve": True, "by": "chief-liu"})


@pytest.mark.dates
async def test_fee_figures_are_kept_for_the_annual_report(env, api, client, engine):
    year = clock.today().year
    before = {y: await _fees(api, y) for y in (year, year + 1)}

    paid_id, approved = await _approved(api, "paid@fees.example.cn", 120)  # 70 × 10 + 20 × 20 = 1100 yuan
    today = date.fromisoformat(approved["as_of"])
    await act(api, paid_id, "fee-payment", {"paid_on": today.isoformat(), "by": "desk-chen"})
    waived_id, _ = await _approved(api, "waived@fees.example.cn", 40)  # 100 yuan, waived
    await act(api, waived_id, "fee-payment", {"paid_on": today.isoformat(), "waived": True, "note": "经济困难，依申请减免",
                                              "by": "chief-liu"})
    unpaid_id, _ = await _approved(api, "unpaid2@fees.example.cn", 31)  # 10 yuan, never paid
    # The 20 working days run from the notice's proven receipt (its e-mail's delivery report; RULES §3 Service).
    await eventually(api, unpaid_id, lambda s: s["fee"]["notice_served_on"] is not None)
    await env.fast_forward(client.get_workflow_handle(unpaid_id), timedelta(days=40))
    await eventually(api, unpaid_id, lambda s: "fee-lapsed" in [e["kind"] for e in s["timeline"]])
    await act(api, unpaid_id, "submit", {"by": "wang"})
    await act(api, unpaid_id, "review", {"approve": True, "by": "reviewer-zhao"})
    await act(api, unpaid_id, "sign", {"by": "chief-liu"})
    await eventually(api, unpaid_id, lambda s: s["status"] in ("awaiting-delivery", "closed"))

    def concluded() -> ApplicationReportRecord | None:
        with Session(engine) as session:
            return session.get(ApplicationReportRecord, unpaid_id)

    for _ in range(100):
        if (record := concluded()) is not None:
            break
        await clock_sleep()
    assert record is not None and record.outcome == "other-2"

    after = await _fees(api, year)
    delta = {k: after[k] - before[year][k] for k in ("noticed_applications", "noticed_amount_yuan", "charged_applications",
                                                     "amount_yuan", "waived_applications")}
    assert delta == {"noticed_applications": 3, "noticed_amount_yuan": 1100 + 100 + 10, "charged_applications": 1,
                     "amount_yuan": 1100, "waived_applications": 1}
    unpaid_year = await _fees(api, record.concluded_on.year)
    assert unpaid_year["unpaid_applications"] - before[record.concluded_on.year]["unpaid_applications"] == 1
    assert [r["label"] for r in after["rows"]][5].startswith("逾期未缴费、不再处理")
    assert "国办函〔2020〕109号" in after["note"]
    other = next(s for s in (await api.get(f"/api/v1/reports/annual/{year}")).json()["sections"] if s["key"] == "other")
    assert f"本年度收取信息处理费{after['charged_applications']}件，金额{after['amount_yuan']}元" in other["draft_text"]

    # The workbook carries the same fee table, and the PDF renders it.
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO((await api.get(f"/api/v1/reports/annual/{year}.xlsx")).content))
    cells = {row[0]: row[1] for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert cells["实收金额（元）"] == after["amount_yuan"] and cells["减免（件）"] == after["waived_applications"]
    pdf = await api.get(f"/api/v1/reports/annual/{year}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


async def clock_sleep() -> None:
    import asyncio

    await asyncio.sleep(0.1)
