"""Table 二 of the annual report (国办公开办函〔2021〕30号) filled from the figures staff record in the
政务公开 module (issue 13 point 1): 规章 and 行政规范性文件 made, repealed and in force; 行政许可, 行政处罚,
行政强制 decisions; 行政事业性收费 in 万元. A figure typed into the report's draft still overrides the
recorded one, and the report says so."""

from letters.documents import pdf_text
from tests.report_support import a_year, store, workbook
from tests.test_reports import reports_api  # noqa: F401  (the fixture: a database of its own)

YEAR = 2018
RECORDED = {"rules": {"made": 1, "repealed": 0, "in_force": 4},
            "normative-documents": {"made": 6, "repealed": 2, "in_force": 23},
            "licensing": {"decisions": 17}, "penalties": {"decisions": 9}, "coercion": {"decisions": 3},
            "fees": {"amount_10k_yuan": 12.5}}


async def test_the_annual_report_shows_the_recorded_figures_in_table_two(reports_api):  # noqa: F811
    store(reports_api.engine, a_year(YEAR, "F"))
    report = (await reports_api.get(f"/api/v1/reports/annual/{YEAR}")).json()
    assert report["table2"]["missing"] and not report["publishable"]

    # A handler records them (in two goes: rows are merged); bad figures are refused with the reason.
    handler = reports_api.as_user("wang")
    for bad, why in (({"rules": {"made": -1}}, None), ({"weather": {"made": 1}}, "没有此项"),
                     ({"rules": {"decisions": 1}}, "没有此栏"), ({"penalties": {"decisions": 1.5}}, "整数")):
        refused = await reports_api.put(f"/api/v1/catalogue/figures/{YEAR}", json={"figures": bad}, headers=handler)
        assert refused.status_code == 422, bad
        assert why is None or why in refused.json()["detail"], refused.json()
    first = {k: v for k, v in RECORDED.items() if k in ("rules", "normative-documents")}
    assert (await reports_api.put(f"/api/v1/catalogue/figures/{YEAR}", json={"figures": first}, headers=handler)).status_code == 200
    rest = {k: v for k, v in RECORDED.items() if k not in first}
    saved = await reports_api.put(f"/api/v1/catalogue/figures/{YEAR}", json={"figures": rest}, headers=handler)
    assert saved.status_code == 200, saved.text
    assert {r["key"]: r["cells"] for r in saved.json()["rows"]} == RECORDED
    assert all(r["updated_by"] == "wang" for r in saved.json()["rows"])
    assert saved.json()["rows"][0]["cells"]["made"] == 1 and isinstance(saved.json()["rows"][0]["cells"]["made"], int)

    report = (await reports_api.get(f"/api/v1/reports/annual/{YEAR}")).json()
    table2 = report["table2"]
    assert {r["key"]: r["cells"] for r in table2["rows"]} == RECORDED
    assert {r["source"] for r in table2["rows"]} == {"recorded"} and table2["missing"] == []
    assert "政务公开模块登记" in table2["source_note"] and "手工调整" not in table2["source_note"]
    assert report["publishable"], report["blocking"]
    pdf = pdf_text((await reports_api.get(f"/api/v1/reports/annual/{YEAR}.pdf")).content).replace("\n", "")
    assert "12.5" in pdf and "23" in pdf and "行政事业性收费" in pdf
    sheet = workbook((await reports_api.get(f"/api/v1/reports/annual/{YEAR}.xlsx")).content)["表二 主动公开"]
    assert {(r[1].value, r[4].value): r[5].value for r in sheet.iter_rows(min_row=2)}[("penalties", "decisions")] == 9

    # The report's own manual figure (kept from before) overrides one cell, and the note says so.
    await reports_api.put(f"/api/v1/reports/annual/{YEAR}/draft", json={"table2": {"penalties": {"decisions": 10}}})
    table2 = (await reports_api.get(f"/api/v1/reports/annual/{YEAR}")).json()["table2"]
    penalties = next(r for r in table2["rows"] if r["key"] == "penalties")
    assert penalties["cells"] == {"decisions": 10} and penalties["source"] == "manual"
    assert "行政处罚·本年处理决定数量（登记 9，报告中改为 10）" in table2["source_note"]
    # Other years are not affected.
    other = (await reports_api.get(f"/api/v1/reports/annual/{YEAR - 1}")).json()["table2"]
    assert len(other["missing"]) == 10
