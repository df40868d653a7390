"""The annual report (Reg. 49-50, 30号 format), the remedies register, 考核评议 and 责任追究 (issue 14).

Counting tests write a year of applications with known outcomes straight into a fresh database (as
intake and the workflow's report activity write them) and compare every cell of table 三 with the
same year classified the plain way; the end-to-end tests take real applications through the real
workflow (registered, decided, reviewed, signed / withdrawn) and find them in the report.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session

from api.main import create_app
from core import clock
from core.config import Settings
from db.models_reports import RemedyCase
from db.session import init_db, make_engine
from letters.documents import pdf_text
from outcomes import OutcomeCode
from reports.annual import ROWS, application_outcome
from reports.remedies import add_months, remedy_deadlines
from tests.conftest import SECURITY_SETTINGS, fresh_database, staff_client
from tests.helpers import act, eventually, register, seed_test_users, since, through_review
from tests.report_support import TYPES, Synthetic, a_year, expected_table3, png_of_first_page, store, workbook

YEAR = 2019  # a past year of its own, in a database of its own
TABLE2 = {"rules": {"made": 0, "repealed": 0, "in_force": 2}, "normative-documents": {"made": 3, "repealed": 1, "in_force": 12},
          "licensing": {"decisions": 0}, "penalties": {"decisions": 5}, "coercion": {"decisions": 0},
          "fees": {"amount_10k_yuan": 0}}


@pytest_asyncio.fixture
async def reports_api(client, mailbox, tmp_path) -> AsyncIterator:
    """The API on a database of its own (no worker: reports read the database only)."""
    with fresh_database(tmp_path, "reports") as database_url:
        own = Settings(data_dir=tmp_path, database_url=database_url, task_queue=f"reports-{uuid.uuid4()}",
                       smtp_host=mailbox.host, smtp_port=mailbox.port, agency_name="某市统计局", **SECURITY_SETTINGS)
        engine = make_engine(own.database_url)
        init_db(engine)
        try:
            app = create_app(own, client=client, engine=engine)
            seed_test_users(engine)
            async with staff_client(app) as http:
                http.engine = engine
                yield http
        finally:
            engine.dispose()


def cells_by_row(report: dict) -> dict[str, dict[str, int]]:
    return {row["key"]: row["cells"] for row in report["table3"]["rows"]}


def test_the_application_counts_once_by_its_reply():
    """RULES §10: partly disclosed and withheld → 部分公开 only; else the first outcome in report order."""
    assert application_outcome([OutcomeCode.DISCLOSED, OutcomeCode.WITHHELD_THIRD_PARTY]) == OutcomeCode.PARTLY_DISCLOSED
    assert application_outcome([OutcomeCode.PARTLY_DISCLOSED, OutcomeCode.UNAVAILABLE_NOT_HELD]) == OutcomeCode.PARTLY_DISCLOSED
    assert application_outcome([OutcomeCode.DISCLOSED, OutcomeCode.DISCLOSED]) == OutcomeCode.DISCLOSED
    assert application_outcome([OutcomeCode.UNAVAILABLE_NOT_HELD, OutcomeCode.WITHHELD_PROCESS_INFO]) == OutcomeCode.WITHHELD_PROCESS_INFO


def test_remedy_deadlines_follow_the_civil_law_count():
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    deadlines = remedy_deadlines(date(2026, 3, 2))
    assert (deadlines.reconsideration_by, deadlines.litigation_by) == (date(2026, 5, 1), date(2026, 9, 2))
    rolled = remedy_deadlines(date(2026, 3, 2), lambda d: d + timedelta(days=4) if d == date(2026, 5, 1) else d)
    assert rolled.reconsideration_by == date(2026, 5, 5) and "顺延" in rolled.explanation[1]


async def test_every_cell_of_table_three_for_a_known_year(reports_api, tmp_path):
    rows = a_year(YEAR, "R")
    store(reports_api.engine, rows)
    expected = expected_table3(rows, YEAR)
    # Every column and every outcome row has applications: the year exercises the whole table.
    assert all(expected[code.value][t] > 0 for code in OutcomeCode for t in TYPES)
    assert all(expected[row][t] > 0 for row in ("new", "carried-in", "carried-out") for t in TYPES)

    response = await reports_api.get(f"/api/v1/reports/annual/{YEAR}")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["status"] == "draft" and report["check"]["ok"], report["check"]
    got = cells_by_row(report)
    assert list(got) == list(ROWS)
    for row in ROWS:
        for column in (*TYPES, "total"):
            assert got[row][column] == expected.get(row, {}).get(column, 0), (row, column)
    assert [c["key"] for c in report["table3"]["columns"]] == [*TYPES, "total"]
    assert "部分公开" in report["counting_rule"] and "只计" in report["counting_rule"]
    assert "只计入“部分公开”" in next(s for s in report["sections"] if s["key"] == "applications")["text"]
    assert report["fees"]["charged_applications"] == 0 and "零" in report["fees"]["note"]

    # The XLSX read back with openpyxl holds the same cells as the JSON.
    xlsx = await reports_api.get(f"/api/v1/reports/annual/{YEAR}.xlsx")
    assert xlsx.status_code == 200
    book = workbook(xlsx.content)
    sheet = book["表三 依申请公开"]
    header = [c.value for c in next(sheet.iter_rows(min_row=2, max_row=2))]
    read = {r[0].value: {header[i]: r[i].value for i in range(2, len(header))} for r in sheet.iter_rows(min_row=4)}
    assert read == got
    t2 = book["表二 主动公开"]
    assert [r[1].value for r in t2.iter_rows(min_row=2)][:2] == ["rules", "rules"]
    check = {r[0].value: r[7].value for r in book["校验"].iter_rows(min_row=2, max_row=8)}
    assert set(check.values()) == {"是"}

    # The PDF: the 30号 tables' wording and figures, rendered to PNG to look at.
    pdf = await reports_api.get(f"/api/v1/reports/annual/{YEAR}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    content = pdf_text(pdf.content)
    for wording in ("某市统计局2019年政府信息公开工作年度报告", "一、总体情况", "二、主动公开政府信息情况",
                    "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议、行政诉讼情况",
                    "五、存在的主要问题及改进情况", "六、其他需要报告的事项", "本年新收政府信息公开申请数量",
                    "上年结转政府信息公开申请数量", "结转下年度继续办理", "法人或其他组织", "社会公益组织",
                    "属于行政查询事项", "结果维持", "复议后起诉", "行政规范性文件", "草稿"):
        assert wording in content.replace("\n", ""), wording
    assert str(got["new"]["total"]) in content and str(got["results-total"]["total"]) in content
    pages = png_of_first_page(pdf.content, tmp_path)
    assert pages and all(p.stat().st_size > 5000 for p in pages)


async def test_the_check_refuses_an_inconsistent_year(reports_api):
    year = YEAR + 1
    rows = a_year(year, "C")
    # A reply recorded for an application the registry never had: counted in 三 but in neither 一 nor 二.
    rows.append(Synthetic(f"C-{year}-999999", date(year, 3, 1), "legal-service", date(year, 3, 20),
                          [OutcomeCode.DISCLOSED], with_application_row=False))
    store(reports_api.engine, rows)
    await reports_api.put(f"/api/v1/reports/annual/{year}/draft", json={"table2": TABLE2})
    report = (await reports_api.get(f"/api/v1/reports/annual/{year}")).json()
    assert not report["check"]["ok"]
    failing = [c["column"] for c in report["check"]["columns"] if not c["ok"]]
    assert failing == ["legal-service", "total"]
    refused = await reports_api.post(f"/api/v1/reports/annual/{year}/publish")
    assert refused.status_code == 409 and "法律服务机构" in refused.json()["detail"]

    # A paper application entered by hand brings the column back into balance; a reason is required.
    no_reason = await reports_api.put(f"/api/v1/reports/annual/{year}/draft",
                                      json={"table3_adjustments": {"new": {"legal-service": 1}}})
    assert no_reason.status_code == 422 and "理由" in no_reason.json()["detail"]
    total_row = await reports_api.put(f"/api/v1/reports/annual/{year}/draft", json={
        "table3_adjustments": {"results-total": {"legal-service": 1}}, "table3_adjustment_reason": "纸质登记"})
    assert total_row.status_code == 422
    fixed = await reports_api.put(f"/api/v1/reports/annual/{year}/draft", json={
        "table3_adjustments": {"new": {"legal-service": 1}}, "table3_adjustment_reason": "系统上线前纸质登记的申请1件"})
    assert fixed.status_code == 200 and fixed.json()["check"]["ok"]
    # Unbalancing again by hand is refused at publication too.
    await reports_api.put(f"/api/v1/reports/annual/{year}/draft", json={
        "table3_adjustments": {"new": {"legal-service": 1, "natural-person": 2}}})
    refused = await reports_api.post(f"/api/v1/reports/annual/{year}/publish")
    assert refused.status_code == 409 and "自然人" in refused.json()["detail"]


async def test_publication_locks_the_year_and_an_amendment_keeps_both(reports_api):
    year = YEAR + 2
    rows = a_year(year, "P")
    store(reports_api.engine, rows)
    missing = await reports_api.post(f"/api/v1/reports/annual/{year}/publish")
    assert missing.status_code == 409 and "表二" in missing.json()["detail"]
    await reports_api.put(f"/api/v1/reports/annual/{year}/draft", json={
        "table2": TABLE2, "sections": {"problems": "一是依申请公开答复质量有待提高。"}})
    handler = await reports_api.post(f"/api/v1/reports/annual/{year}/publish", headers=reports_api.as_user("wang"))
    assert handler.status_code == 403
    published = await reports_api.post(f"/api/v1/reports/annual/{year}/publish")
    assert published.status_code == 200, published.text
    first = published.json()
    assert first["status"] == "published" and first["version"] == 1

    assert (await reports_api.post(f"/api/v1/reports/annual/{year}/publish")).status_code == 409
    locked = await reports_api.put(f"/api/v1/reports/annual/{year}/draft", json={"sections": {"other": "改"}})
    assert locked.status_code == 409 and "更正" in locked.json()["detail"]
    # A reply recorded late for that year does not change what was published.
    store(reports_api.engine, [Synthetic(f"P-{year}-900001", date(year, 5, 5), "natural-person", date(year, 6, 1),
                                         [OutcomeCode.DISCLOSED])])
    again = (await reports_api.get(f"/api/v1/reports/annual/{year}")).json()
    assert cells_by_row(again) == cells_by_row(first)

    no_reason = await reports_api.post(f"/api/v1/reports/annual/{year}/amendments", json={"sections": {"other": "x"}})
    assert no_reason.status_code == 422
    amended = await reports_api.post(f"/api/v1/reports/annual/{year}/amendments", json={
        "reason": "补录一件漏登的申请", "sections": {"problems": "一是答复质量；二是登记及时性。"}})
    assert amended.status_code == 200, amended.text
    second = amended.json()
    assert second["version"] == 2 and second["amendment_reason"] == "补录一件漏登的申请"
    assert cells_by_row(second)["new"]["natural-person"] == cells_by_row(first)["new"]["natural-person"] + 1
    v1 = (await reports_api.get(f"/api/v1/reports/annual/{year}", params={"version": 1})).json()
    assert cells_by_row(v1) == cells_by_row(first)
    assert next(s for s in v1["sections"] if s["key"] == "problems")["text"] == "一是依申请公开答复质量有待提高。"
    latest = (await reports_api.get(f"/api/v1/reports/annual/{year}")).json()
    assert latest["version"] == 2 and [v["version"] for v in latest["versions"]] == [1, 2]
    assert latest["versions"][1]["reason"] == "补录一件漏登的申请"
    assert "更正" in pdf_text((await reports_api.get(f"/api/v1/reports/annual/{year}.pdf")).content)
    assert "第1版" in pdf_text((await reports_api.get(f"/api/v1/reports/annual/{year}.pdf", params={"version": 1})).content)
    assert (await reports_api.get(f"/api/v1/reports/annual/{year}", params={"version": 3})).status_code == 404
    # The next year's draft compares its carry-over with this published year.
    following = (await reports_api.get(f"/api/v1/reports/annual/{year + 1}")).json()
    assert following["cross_check"]["previous_carried_out"] == cells_by_row(second)["carried-out"]


@pytest.mark.dates
async def test_publication_waits_for_the_end_of_the_year_and_bad_input_is_refused(reports_api):
    this_year = clock.today().year
    await reports_api.put(f"/api/v1/reports/annual/{this_year}/draft", json={"table2": TABLE2})
    early = await reports_api.post(f"/api/v1/reports/annual/{this_year}/publish")
    assert early.status_code == 409 and "尚未结束" in early.json()["detail"]
    assert (await reports_api.get("/api/v1/reports/annual/1999")).status_code == 422
    bad = await reports_api.put(f"/api/v1/reports/annual/{this_year}/draft", json={"table2": {"rules": {"made": -1}}})
    assert bad.status_code == 422
    unknown = await reports_api.put(f"/api/v1/reports/annual/{this_year}/draft", json={"table2": {"weather": {"made": 1}}})
    assert unknown.status_code == 422 and "表二" in unknown.json()["detail"]
    assert (await reports_api.get(f"/api/v1/reports/annual/{this_year}", headers=reports_api.as_user("desk-chen"))).status_code == 403
    assert (await reports_api.get(f"/api/v1/reports/annual/{this_year}", headers=reports_api.as_user("admin"))).status_code == 200


def test_report_grade_records_are_never_rewritten(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'records.db'}")
    init_db(engine)
    store(engine, [Synthetic("A-1", date(2020, 1, 2), "enterprise", date(2020, 1, 20), [OutcomeCode.DISCLOSED])])
    # The same application recorded again (a retried activity) changes nothing.
    store(engine, [Synthetic("A-1", date(2020, 1, 2), "enterprise", date(2020, 2, 20), [OutcomeCode.WITHHELD_STATE_SECRET])])
    with Session(engine) as session:
        assert session.execute(text("SELECT outcome, concluded_on FROM application_report_record")).one() == (
            "disclosed", "2020-01-20")
        for statement in ("UPDATE application_report_record SET outcome = 'other-3'",
                          "DELETE FROM application_report_record"):
            with pytest.raises(DatabaseError, match="append-only"):
                session.execute(text(statement))
            session.rollback()
    engine.dispose()


async def test_remedies_register_and_table_four(reports_api):
    year = YEAR + 3
    rows = [Synthetic(f"L-{year}-{n:06d}", date(year, 2, n), "natural-person", date(year, 3, n), [OutcomeCode.WITHHELD_PROCESS_INFO])
            for n in range(1, 8)]
    store(reports_api.engine, rows)
    post = reports_api.post

    async def case(app_id, kind, filed_on, expect=201):
        response = await post("/api/v1/reports/remedies", json={"application_id": app_id, "kind": kind,
                                                                 "filed_on": filed_on.isoformat(), "authority": "某市人民政府"})
        assert response.status_code == expect, response.text
        return response.json()

    def conclude(case_id, result, on, expect=200):
        return post(f"/api/v1/reports/remedies/{case_id}/result", json={"result": result, "concluded_on": on.isoformat()})

    a = await case(rows[0].application_id, "reconsideration", date(year, 4, 1))
    assert (await conclude(a["id"], "maintained", date(year, 5, 20))).status_code == 200
    refused = await conclude(a["id"], "corrected", date(year, 5, 21))
    assert refused.status_code == 409 and "已" in refused.json()["detail"]
    b = await case(rows[1].application_id, "reconsideration", date(year, 4, 2))
    await conclude(b["id"], "corrected", date(year, 6, 1))
    c = await case(rows[2].application_id, "reconsideration", date(year, 11, 2))
    await conclude(c["id"], "other", date(year + 1, 1, 10))  # decided after 31 December: 尚未审结 in the year
    await case(rows[3].application_id, "litigation-direct", date(year, 7, 1))
    after = await post("/api/v1/reports/remedies", json={"application_id": rows[4].application_id,
                                                           "kind": "litigation-after-reconsideration", "filed_on": f"{year}-08-01"})
    assert after.status_code == 409 and "复议" in after.json()["detail"]
    d = await case(rows[0].application_id, "litigation-after-reconsideration", date(year, 6, 1))
    await conclude(d["id"], "maintained", date(year, 10, 1))
    await case(rows[5].application_id, "litigation-direct", date(year - 1, 12, 1), expect=409)  # before the receipt
    unknown = await post("/api/v1/reports/remedies", json={"application_id": "NOPE-1", "kind": "reconsideration",
                                                             "filed_on": f"{year}-08-01"})
    assert unknown.status_code == 404
    assert (await post("/api/v1/reports/remedies", json={"application_id": rows[5].application_id, "kind": "appeal",
                                                         "filed_on": f"{year}-08-01"})).status_code == 422

    report = (await reports_api.get(f"/api/v1/reports/annual/{year}")).json()
    t4 = {g["key"]: g["cells"] for g in report["table4"]["groups"]}
    assert t4["reconsideration"] == {"maintained": 1, "corrected": 1, "other": 0, "pending": 1, "total": 3}
    assert t4["litigation-direct"] == {"maintained": 0, "corrected": 0, "other": 0, "pending": 1, "total": 1}
    assert t4["litigation-after-reconsideration"] == {"maintained": 1, "corrected": 0, "other": 0, "pending": 0, "total": 1}
    book = workbook((await reports_api.get(f"/api/v1/reports/annual/{year}.xlsx")).content)
    read = {r[0].value: [c.value for c in r[2:7]] for r in book["表四 复议诉讼"].iter_rows(min_row=3)}
    assert read == {k: list(v.values()) for k, v in t4.items()}
    listed = (await reports_api.get("/api/v1/reports/remedies", params={"year": year, "pending": True})).json()
    assert [c["kind"] for c in listed] == ["litigation-direct"]  # pending now (c was decided in January)
    remedies = (await reports_api.get(f"/api/v1/reports/applications/{rows[0].application_id}/remedies")).json()
    assert [c["kind"] for c in remedies["cases"]] == ["reconsideration", "litigation-after-reconsideration"]
    assert remedies["deadlines"] is None and "送达" in remedies["note"]  # no reply letter in this database


async def test_assessment_figures_and_scoring_sheet(reports_api):
    year = YEAR + 4
    rows = a_year(year, "S")
    store(reports_api.engine, rows)
    replied = [r for r in rows if r.concluded_on and r.ending != "withdrawn" and r.concluded_on.year == year]
    response = await reports_api.get("/api/v1/reports/assessment", params={"from": f"{year}-01-01", "to": f"{year}-12-31"})
    assert response.status_code == 200, response.text
    body = response.json()
    for department in ("综合统计科", "执法监督科"):
        mine = [r for r in replied if r.department == department]
        got = body["departments"][department]
        assert got["replied"] == len(mine)
        assert got["on_time"] == sum(1 for r in mine if r.on_time)
        assert got["late"] == sum(1 for r in mine if r.on_time is False)
        assert got["extended"] == sum(1 for r in mine if r.extended)
        assert got["review_returns"] == sum(r.review_returns for r in mine)
    assert sum(m["replied"] for m in body["monthly"]) == len(replied)
    assert {m["month"][:4] for m in body["monthly"]} == {str(year)}

    low = await reports_api.put(f"/api/v1/reports/assessment/{year}/scheme", json={
        "assessment_weight_percent": 4, "criteria": [{"key": "all", "label": "全部", "weight": 100, "source": "manual"}]})
    assert low.status_code == 422 and "5%" in low.json()["detail"]
    scheme = {"assessment_weight_percent": 6, "criteria": [
        {"key": "deployment", "label": "工作部署", "weight": 40, "source": "manual"},
        {"key": "timeliness", "label": "按期答复", "weight": 60, "source": "on_time_rate"}]}
    assert (await reports_api.put(f"/api/v1/reports/assessment/{year}/scheme", json=scheme)).status_code == 200
    too_high = await reports_api.put(f"/api/v1/reports/assessment/{year}/scores",
                                     json={"department": "综合统计科", "criterion": "deployment", "score": 41})
    assert too_high.status_code == 422
    scored = await reports_api.put(f"/api/v1/reports/assessment/{year}/scores",
                                   json={"department": "综合统计科", "criterion": "deployment", "score": 35, "note": "部署到位"})
    sheet = next(s for s in scored.json()["sheets"] if s["department"] == "综合统计科")
    figures = body["departments"]["综合统计科"]
    expected_timeliness = round(60 * figures["on_time"] / figures["replied"], 2)
    assert [c["score"] for c in sheet["criteria"]] == [35, expected_timeliness]
    assert sheet["complete"] and sheet["total"] == round(35 + expected_timeliness, 2)
    assert sheet["appraisal_points"] == round(sheet["total"] * 6 / 100, 2)
    other = next(s for s in scored.json()["sheets"] if s["department"] == "执法监督科")
    assert not other["complete"] and other["missing"] == ["工作部署"]
    book = workbook((await reports_api.get(f"/api/v1/reports/assessment/{year}/sheet.xlsx")).content)
    scores = [(r[0].value, r[1].value, r[4].value) for r in book["评分表"].iter_rows(min_row=3)]
    assert ("综合统计科", "工作部署", 35) in scores and ("综合统计科", "按期答复", expected_timeliness) in scores


async def test_accountability_cases_from_the_records_and_by_hand(reports_api):
    year = YEAR + 5
    late = Synthetic(f"Z-{year}-000001", date(year, 3, 1), "natural-person", date(year, 4, 10), [OutcomeCode.DISCLOSED],
                     due_on=date(year, 3, 22), department="执法监督科", handler="li")
    on_time = Synthetic(f"Z-{year}-000002", date(year, 3, 1), "natural-person", date(year, 3, 10), [OutcomeCode.DISCLOSED],
                        due_on=date(year, 3, 22))
    store(reports_api.engine, [late, on_time])
    scan = {"from": f"{year}-01-01", "to": f"{year}-12-31"}
    first = (await reports_api.post("/api/v1/reports/accountability/scan", json=scan)).json()
    assert first["raised"] == 1
    assert (await reports_api.post("/api/v1/reports/accountability/scan", json=scan)).json()["raised"] == 0
    [raised] = first["cases"]["执法监督科"]
    assert raised["application_id"] == late.application_id and raised["level_label"] == "责令改正"
    manual = await reports_api.post("/api/v1/reports/accountability", json={
        "department": "综合统计科", "ground": "wrongful-disclosure", "application_id": on_time.application_id,
        "description": "答复中附带了第三方的联系方式，属公开不应当公开的信息"})
    assert manual.status_code == 201 and manual.json()["source"] == "manual"
    case_id = raised["id"]
    up = await reports_api.post(f"/api/v1/reports/accountability/{case_id}/escalate", json={"reason": "整改不到位，予以通报"})
    assert up.json()["level_label"] == "通报批评"
    up = await reports_api.post(f"/api/v1/reports/accountability/{case_id}/escalate", json={"reason": "情节严重"})
    assert up.json()["level_label"] == "依纪依法处理" and len(up.json()["steps"]) == 3
    top = await reports_api.post(f"/api/v1/reports/accountability/{case_id}/escalate", json={"reason": "情节特别严重"})
    assert top.status_code == 409 and "不能再升级" in top.json()["detail"]
    closed = await reports_api.post(f"/api/v1/reports/accountability/{case_id}/close", json={"outcome": "给予诫勉谈话"})
    assert closed.json()["status"] == "closed"
    assert (await reports_api.post(f"/api/v1/reports/accountability/{case_id}/close", json={"outcome": "再办"})).status_code == 409
    listed = (await reports_api.get("/api/v1/reports/accountability")).json()["by_department"]
    assert set(listed) == {"执法监督科", "综合统计科"}
    assert (await reports_api.post("/api/v1/reports/accountability/999/escalate", json={"reason": "不存在的"})).status_code == 404


# --- end to end: real applications through the real workflow ------------------------------------------

async def _report_record(api, application_id: str, timeout: float = 20.0) -> dict:
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        body = (await api.get(f"/api/v1/reports/applications/{application_id}/remedies")).json()
        if body["replied_on"] is not None and body["delivered_on"] is not None:
            return body
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no report-grade record or delivery for {application_id}: {body}")
        await asyncio.sleep(0.2)


@pytest.mark.dates
async def test_a_signed_application_appears_in_the_annual_report(api, engine):
    first = clock.today()
    year = first.year
    before = cells_by_row((await api.get(f"/api/v1/reports/annual/{year}")).json())
    app_id = (await register(api, applicant={"name": "某律师事务所", "type": "legal-service", "email": "law@example.cn"},
                             items=[{"description": "2025年统计执法检查结果"}, {"description": "某企业的统计执法案卷"}]))["application_id"]
    withdrawn_id = (await register(api))["application_id"]
    await through_review(api, app_id, {1: ("disclosed", ""), 2: ("withheld-7", "属于行政执法案卷")})
    await act(api, app_id, "sign", {"by": "chief-liu"})
    await act(api, withdrawn_id, "withdraw", {"reason": "不再需要"})
    remedies = await _report_record(api, app_id)
    replied_on = remedies["replied_on"]
    assert replied_on in since(first)  # signed during the test, on the server's day
    delivered = date.fromisoformat(remedies["delivered_on"])
    assert date.fromisoformat(remedies["deadlines"]["reconsideration_by"]) >= delivered + timedelta(days=60)
    assert date.fromisoformat(remedies["deadlines"]["litigation_by"]) >= add_months(delivered, 6)

    await eventually(api, withdrawn_id, lambda s: s["status"] == "withdrawn")
    with Session(engine) as session:
        records = {row[0]: tuple(None if v is None else str(v) for v in row[1:]) for row in session.execute(text(
            "SELECT application_id, ending, outcome, applicant_type, replied_on, concluded_on, signed_by "
            "FROM application_report_record WHERE application_id IN (:a, :b)"), {"a": app_id, "b": withdrawn_id})}
    assert records[app_id] == ("replied", "partly-disclosed", "legal-service", replied_on, replied_on, "chief-liu")
    assert records[withdrawn_id][:3] == ("withdrawn", "other-3", "natural-person") and records[withdrawn_id][3] is None

    after = cells_by_row((await api.get(f"/api/v1/reports/annual/{year}")).json())
    changed = {(row, column): after[row][column] - before[row][column]
               for row in after for column in after[row] if after[row][column] != before[row][column]}
    assert changed == {("new", "legal-service"): 1, ("new", "natural-person"): 1, ("new", "total"): 2,
                       ("partly-disclosed", "legal-service"): 1, ("partly-disclosed", "total"): 1,
                       ("other-3", "natural-person"): 1, ("other-3", "total"): 1,
                       ("results-total", "legal-service"): 1, ("results-total", "natural-person"): 1,
                       ("results-total", "total"): 2}
    # The case register links to the real application.
    filed = await api.post("/api/v1/reports/remedies", json={"application_id": app_id, "kind": "reconsideration",
                                                              "filed_on": replied_on})
    assert filed.status_code == 201
    with Session(engine) as session:
        assert session.get(RemedyCase, filed.json()["id"]).application_id == app_id


@pytest.mark.dates
async def test_an_abandoned_application_is_recorded_as_other_1(env, api, client, engine):
    """No supplement by the deadline (RULES §3, Reg. 30): a person decides 其他处理-1, its reply is reviewed
    and signed (issue 11 point 5), and the record counts it under 其他处理-1."""
    from contracts.application_view import ApplicationOutcome

    app_id = (await register(api, applicant={"name": "某研究院", "type": "research-institution", "email": "r@example.cn"}))["application_id"]
    await act(api, app_id, "supplement-request", {"needed": ["请明确所需信息的时间范围"], "by": "wang"})
    # RULES §3 Service: the deadline runs from the notice's proven receipt (its e-mail's delivery report).
    await eventually(api, app_id, lambda s: s["supplement"]["notice_served_on"] is not None)
    handle = client.get_workflow_handle(app_id, result_type=ApplicationOutcome)
    await env.fast_forward(handle, timedelta(days=40))
    await eventually(api, app_id, lambda s: any(e["kind"] == "supplement-deadline-passed" for e in s["timeline"]))
    await act(api, app_id, "supplement-lapse", {"justified": False, "reason": "申请人未说明任何理由", "by": "chief-liu"})
    await act(api, app_id, "submit", {"by": "wang"})
    await act(api, app_id, "review", {"approve": True, "by": "reviewer-zhao"})
    await act(api, app_id, "sign", {"by": "director-liu"})
    assert [i.final_outcome for i in (await handle.result()).items] == ["other-1"]
    with Session(engine) as session:
        ending, outcome, kind, received, replied, concluded, items = session.execute(text(
            "SELECT ending, outcome, applicant_type, received_on, replied_on, concluded_on, item_outcomes "
            "FROM application_report_record WHERE application_id = :a"), {"a": app_id}).one()
    assert (ending, outcome, kind) == ("replied", "other-1", "research-institution")
    assert replied == concluded and str(concluded) > str(received)
    assert (items if isinstance(items, list) else __import__("json").loads(items)) == [{"item_no": 1, "outcome": "other-1"}]


def test_applications_that_ended_before_the_records_existed_are_backfilled(tmp_path):
    """From the ending event's own time and the items' stored outcomes; running it twice writes nothing more."""
    from datetime import UTC, datetime

    from contracts.models import ApplicationRecord, EventRecord, ItemRecord
    from db.reports_repository import backfill_report_records
    from db.repository import save_application

    engine = make_engine(f"sqlite:///{tmp_path / 'legacy.db'}")
    init_db(engine)

    def legacy(app_id: str, kind: str, outcomes: list[str | None], at: datetime, returned: int = 0) -> None:
        record = ApplicationRecord(
            application_id=app_id, received_on=date(2026, 3, 2), channel="online", applicant_name="申请人",
            applicant_type="enterprise", delivery_method="email", policy="local", status="closed", handler="wang",
            department="综合统计科", due_on=date(2026, 3, 23), extended=False,
            items=[ItemRecord(item_no=n, description="某信息", outcome=o) for n, o in enumerate(outcomes, start=1)])
        events = [EventRecord(seq=1, at=datetime(2026, 3, 2, 1, tzinfo=UTC), kind="registered", actor="desk-chen", summary="登记")]
        events += [EventRecord(seq=2 + k, at=datetime(2026, 3, 5, 2, tzinfo=UTC), kind="review-returned", actor="reviewer-zhao",
                               summary="退回") for k in range(returned)]
        events.append(EventRecord(seq=10, at=at, kind=kind, actor="chief-liu", summary="结束"))
        with Session(engine) as session:
            save_application(session, record, events)
            session.commit()

    # Signed at 17:00 UTC on 24 March = 25 March in Shanghai: one day after the due date.
    legacy("OLD-1", "signed", ["disclosed", "withheld-4"], datetime(2026, 3, 24, 17, tzinfo=UTC), returned=2)
    legacy("OLD-2", "withdrawn", ["other-3"], datetime(2026, 3, 10, 3, tzinfo=UTC))
    legacy("OLD-3", "signed", [None], datetime(2026, 3, 11, 3, tzinfo=UTC))
    with Session(engine) as session:
        assert backfill_report_records(session) == (2, ["OLD-3"])
        session.commit()
        rows = {r[0]: tuple(None if v is None else str(v) for v in r[1:]) for r in session.execute(text(
            "SELECT application_id, ending, outcome, replied_on, concluded_on, on_time, review_returns, signed_by "
            "FROM application_report_record"))}
        assert backfill_report_records(session) == (0, ["OLD-3"])
    assert rows["OLD-1"] == ("replied", "partly-disclosed", "2026-03-25", "2026-03-25", "0", "2", "chief-liu")
    assert rows["OLD-2"] == ("withdrawn", "other-3", None, "2026-03-10", None, "0", None)
    engine.dispose()
