"""Issue 11 point 15 through the API on the real server: POST /api/v1/applications/{id}/guidance proposes, the
handler proposes the (edited) draft through the existing update, whose checks still apply."""

from tests.helpers import act, register, send_action


async def test_guidance_proposes_and_the_handler_proposes_the_draft_through_the_existing_update(api):
    app_id = (await register(api, handler="wang", department="综合统计科", delivery_method="post"))["application_id"]
    questions = await api.get(f"/api/v1/applications/{app_id}/guidance", headers=api.as_user("wang"))
    assert [q["short"] for q in questions.json()][:4] == ["补不补", "是不是", "谁负责", "有没有"]

    incomplete = await api.post(f"/api/v1/applications/{app_id}/guidance", headers=api.as_user("wang"),
                                json={"item_no": 1, "supplement": "clear"})
    assert incomplete.status_code == 200 and incomplete.json()["next_question"] == "nature"

    answers = {"item_no": 1, "supplement": "clear", "nature": "disclosure", "responsible": "other-agency",
               "referral": "福州市市场监督管理局，0591-12315"}
    got = await api.post(f"/api/v1/applications/{app_id}/guidance", headers=api.as_user("wang"), json=answers)
    assert got.status_code == 200, got.text
    g = got.json()
    assert g["outcome"] == "unavailable-1" and g["referral"] == answers["referral"]
    assert "第三十六条第（五）项" in g["legal_basis"] and "福州市市场监督管理局" in g["reasons"]
    assert g["item_description"] == "2025年全市规模以上工业企业名录"

    view = await act(api, app_id, "decisions", {"item_no": 1, "outcome": g["outcome"], "reasons": g["reasons"],
                                                "referral": g["referral"], "by": "wang"})
    assert view["items"][0]["proposal"]["outcome"] == "unavailable-1"
    assert view["items"][0]["proposal"]["reasons"] == g["reasons"]

    # The workflow's checks still apply: 无法提供-3 is refused without a supplement, whatever the guidance said.
    still = (await api.post(f"/api/v1/applications/{app_id}/guidance", headers=api.as_user("wang"),
                            json={"item_no": 1, "supplement": "still-unclear"})).json()
    assert still["outcome"] == "unavailable-3" and still["notes"]
    refused = await send_action(api, app_id, "decisions", {"item_no": 1, "outcome": "unavailable-3",
                                                           "reasons": still["reasons"], "by": "wang"})
    assert refused.status_code == 409 and "补正" in refused.json()["detail"]


async def test_guidance_refuses_unknown_items_bad_answers_and_other_departments(api):
    app_id = (await register(api, handler="wang", department="综合统计科"))["application_id"]
    no_item = await api.post(f"/api/v1/applications/{app_id}/guidance", headers=api.as_user("wang"),
                             json={"item_no": 3, "supplement": "clear"})
    assert no_item.status_code == 422 and "没有第 3 项" in no_item.json()["detail"]
    bad = await api.post(f"/api/v1/applications/{app_id}/guidance", headers=api.as_user("wang"),
                         json={"item_no": 1, "nature": "maybe"})
    assert bad.status_code == 422 and "nature" in bad.json()["detail"]
    other = await api.post(f"/api/v1/applications/{app_id}/guidance", headers=api.as_user("li"),
                           json={"item_no": 1, "supplement": "clear"})
    assert other.status_code == 404
