"""Table 二 of the annual report from the catalogue (issue 13 point 1): a catalogue document marked as a
规章 or 行政规范性文件 carries its issue (印发) date and, when withdrawn as repealed, its repeal (废止)
date; the report's 制发 / 废止 / 现行有效 are counted from them, and a figure staff record replaces the
catalogue's count and is shown as such. On the real Temporal server."""

from datetime import date

from tests.test_proactive import _category, _create, _row, _view

YEAR = 2019


async def _published_normative(api, engine, title: str, issued_on: date) -> str:
    item_id = (await _create(api, title=title, document_number=f"统规〔{YEAR}〕{title[-1]}号", legal_kind="normative-documents",
                             issued_on=issued_on.isoformat()))["item_id"]
    view = await _view(api, item_id)
    assert view["legal_kind"] == "normative-documents" and view["issued_on"] == issued_on.isoformat()
    await api.post(f"/api/v1/catalogue/items/{item_id}/review", json={"approve": True}, headers=api.as_user("reviewer-zhao"))
    published = await api.post(f"/api/v1/catalogue/items/{item_id}/publish", json={"url": f"/gk/{item_id}.html"},
                               headers=api.as_user("wang"))
    assert published.status_code == 200, published.text
    await _row(engine, item_id, lambda r: r.status == "published" and r.issued_on == issued_on)
    return item_id


async def _table2(api, year: int) -> dict:
    report = await api.get(f"/api/v1/reports/annual/{year}")
    assert report.status_code == 200, report.text
    return report.json()["table2"]


async def test_two_normative_documents_published_and_one_repealed_count_2_1_1_in_table_two(api, engine):
    await _category(api)
    # Bad input: an issue date without a kind, an unknown kind.
    for bad in ({"issued_on": "2019-03-01"}, {"legal_kind": "weather"}):
        refused = await api.post("/api/v1/catalogue/items", headers=api.as_user("wang"), json={
            "title": "统计规范性文件", "category_id": "statistics-data", "produced_on": "2019-03-01", "content": "x"} | bad)
        assert refused.status_code == 422, bad

    first = await _published_normative(api, engine, "统计调查项目管理办法一", date(YEAR, 3, 1))
    second = await _published_normative(api, engine, "统计调查项目管理办法二", date(YEAR, 4, 1))

    # A document that is not a 规章 or 规范性文件 cannot be repealed; a repeal before its issue is refused.
    plain = (await _create(api, title="统计公报"))["item_id"]
    await _view(api, plain)
    refused = await api.post(f"/api/v1/catalogue/items/{plain}/withdraw", headers=api.as_user("wang"),
                             json={"reason": "已废止", "repealed_on": f"{YEAR}-06-30"})
    assert refused.status_code == 409 and "规章或规范性文件" in refused.json()["detail"]
    early = await api.post(f"/api/v1/catalogue/items/{second}/withdraw", headers=api.as_user("wang"),
                           json={"reason": "已废止", "repealed_on": f"{YEAR}-01-01"})
    assert early.status_code == 409 and "印发日期" in early.json()["detail"]
    repealed = await api.post(f"/api/v1/catalogue/items/{second}/withdraw", headers=api.as_user("wang"),
                              json={"reason": "被新办法替代", "repealed_on": f"{YEAR}-06-30"})
    assert repealed.status_code == 200, repealed.text
    assert repealed.json()["phase"] == "withdrawn" and repealed.json()["repealed_on"] == f"{YEAR}-06-30"
    assert [h["kind"] for h in repealed.json()["history"]][-1] == "repealed"
    await _row(engine, second, lambda r: r.repealed_on == date(YEAR, 6, 30))

    table2 = await _table2(api, YEAR)
    row = next(r for r in table2["rows"] if r["key"] == "normative-documents")
    assert row["cells"] == {"made": 2, "repealed": 1, "in_force": 1}
    assert set(row["sources"].values()) == {"catalogue"}
    assert "主动公开目录按印发、废止日期统计" in table2["source_note"]
    # The year after: none made or repealed, one still in force; a year before any document of this session
    # (the browser test registers one issued in 2016): nothing to count.
    after = next(r for r in (await _table2(api, YEAR + 1))["rows"] if r["key"] == "normative-documents")
    assert after["cells"] == {"made": 0, "repealed": 0, "in_force": 1}
    before = next(r for r in (await _table2(api, 2008))["rows"] if r["key"] == "normative-documents")
    assert before["source"] == "missing"

    # The yearly figures pre-fill from the catalogue; a figure staff record overrides it, shown as such.
    figures = (await api.get(f"/api/v1/catalogue/figures/{YEAR}")).json()["rows"]
    normative = next(r for r in figures if r["key"] == "normative-documents")
    assert normative["catalogue"] == {"made": 2, "repealed": 1, "in_force": 1} and normative["cells"] == normative["catalogue"]
    assert set(normative["sources"].values()) == {"catalogue"}
    assert next(r for r in figures if r["key"] == "licensing")["sources"] == {"decisions": "missing"}
    handler = api.as_user("wang")
    saved = await api.put(f"/api/v1/catalogue/figures/{YEAR}", headers=handler,
                          json={"figures": {"normative-documents": {"in_force": 5}, "licensing": {"decisions": 7}}})
    assert saved.status_code == 200, saved.text
    normative = next(r for r in saved.json()["rows"] if r["key"] == "normative-documents")
    assert normative["cells"] == {"made": 2, "repealed": 1, "in_force": 5}
    assert normative["sources"] == {"made": "catalogue", "repealed": "catalogue", "in_force": "override"}
    table2 = await _table2(api, YEAR)
    row = next(r for r in table2["rows"] if r["key"] == "normative-documents")
    assert row["cells"] == {"made": 2, "repealed": 1, "in_force": 5}
    assert "行政规范性文件·现行有效件数（目录统计 1，登记改为 5）" in table2["source_note"]
    assert next(r for r in table2["rows"] if r["key"] == "licensing")["cells"] == {"decisions": 7}
    # Clearing the override gives the catalogue's count back.
    await api.put(f"/api/v1/catalogue/figures/{YEAR}", headers=handler,
                  json={"figures": {"normative-documents": {"in_force": None}, "licensing": {"decisions": None}}})
    row = next(r for r in (await _table2(api, YEAR))["rows"] if r["key"] == "normative-documents")
    assert row["cells"] == {"made": 2, "repealed": 1, "in_force": 1}
    assert first != second
