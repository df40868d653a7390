"""Corrections (Reg. 41; seed 002 art. 19) on the real server: one corrected and one forwarded, each
person told by a letter carrying the remedies; the period is the reply period on the working-day clock."""

import asyncio

from core import clock
from tests.helpers import mails_about, view_when

BODY = {"person_name": "李四", "email": "lisi@example.cn", "record": "2025年统计执法检查公告中本人企业名称",
        "correction": "企业名称误写为“某某商贸”，应为“某某商务”", "evidence": "营业执照复印件"}


async def _view(api, correction_id, check=lambda v: True, timeout=20.0):
    return await view_when(api, f"/api/v1/corrections/{correction_id}", check, timeout)


async def _letter(mailbox, correction_id, timeout=20.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not (found := mails_about(mailbox.envelopes, correction_id)):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no letter about {correction_id}")
        await asyncio.sleep(0.2)
    return found


async def test_desk_registered_correction_is_made_and_the_person_told(api, mailbox):
    created = await api.post("/api/v1/corrections", json=BODY | {"received_on": clock.today().isoformat()},
                             headers=api.as_user("desk-chen"))
    assert created.status_code == 201, created.text
    correction_id = created.json()["correction_id"]
    view = await _view(api, correction_id)
    assert view["status"] == "handling" and any("15 个工作日" in s for s in view["due_steps"])
    done = await api.post(f"/api/v1/corrections/{correction_id}/correct", json={"result": "已将企业名称更正为“某某商务”"},
                          headers=api.as_user("wang"))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "in-review"  # issue 24 point 4: the letter goes out after the review
    reviewed = await api.post(f"/api/v1/corrections/{correction_id}/review", json={"approve": True},
                              headers=api.as_user("reviewer-zhao"))
    assert reviewed.status_code == 200 and reviewed.json()["status"] == "corrected", reviewed.text
    again = await api.post(f"/api/v1/corrections/{correction_id}/forward", json={"agency": "市市场监督管理局"},
                           headers=api.as_user("wang"))
    # Refused: the workflow is ending (its own reason) or has ended (the API's).
    assert again.status_code == 409 and any(w in again.json()["detail"] for w in ("已办结", "已更正并告知申请人"))
    letter = (await _letter(mailbox, correction_id))[0]
    text = letter.get_body(("plain",)).get_content()
    assert "政府信息更正告知书" in letter["Subject"] and "第四十一条" in text and "某某商务" in text
    assert "行政复议" in text and "行政诉讼" in text


async def test_public_request_forwarded_to_the_competent_agency(api, mailbox):
    submitted = await api.post("/api/v1/public/corrections", json=BODY, headers={"Authorization": ""})
    assert submitted.status_code == 201, submitted.text
    correction_id = submitted.json()["correction_id"]
    await _view(api, correction_id)
    assert (await api.post(f"/api/v1/corrections/{correction_id}/forward", json={"agency": "市"},
                           headers=api.as_user("wang"))).status_code == 422
    forwarded = await api.post(f"/api/v1/corrections/{correction_id}/forward",
                               json={"agency": "市市场监督管理局", "reason": "企业登记信息由登记机关更正"},
                               headers=api.as_user("wang"))
    assert forwarded.status_code == 200 and forwarded.json()["status"] == "in-review", forwarded.text
    reviewed = await api.post(f"/api/v1/corrections/{correction_id}/review", json={"approve": True},
                              headers=api.as_user("reviewer-zhao"))
    assert reviewed.status_code == 200 and reviewed.json()["forwarded_to"] == "市市场监督管理局", reviewed.text
    text = (await _letter(mailbox, correction_id))[0].get_body(("plain",)).get_content()
    assert "无权更正" in text and "市市场监督管理局" in text and "行政复议" in text
    rows = (await api.get("/api/v1/corrections")).json()
    assert any(r["id"] == correction_id and r["status"] == "forwarded" for r in rows)


async def test_a_correction_without_a_way_to_answer_is_refused(api):
    response = await api.post("/api/v1/public/corrections", json={k: v for k, v in BODY.items() if k != "email"},
                              headers={"Authorization": ""})
    assert response.status_code == 422 and "电子邮箱或通讯地址" in response.json()["detail"]


async def test_the_period_is_the_agencys_reply_period_fixed_at_intake(api, client, engine):
    """Issue 13 point 4: the period defaults to the agency's reply period (15 working days locally, 20
    under national-2019, Reg. 33) and is fixed on each correction when it is received."""
    from api.main import create_app
    from tests.conftest import staff_client

    body = BODY | {"received_on": clock.today().isoformat()}
    before = (await api.post("/api/v1/corrections", json=body, headers=api.as_user("desk-chen"))).json()["correction_id"]
    assert any("15 个工作日" in s for s in (await _view(api, before))["due_steps"])
    national = api.app.state.settings.model_copy(update={"reply_period_profile": "national-2019"})
    async with staff_client(create_app(national, client=client, engine=engine)) as changed:
        created = await changed.post("/api/v1/corrections", json=body, headers=changed.as_user("desk-chen"))
        assert created.status_code == 201, created.text
        view = await _view(changed, created.json()["correction_id"])
        assert any("20 个工作日" in s for s in view["due_steps"])
        deadline = (await changed.get("/api/v1/calendar/deadline",
                                      params={"received": body["received_on"], "days": 20})).json()
        assert view["due_on"] == deadline["due_on"]
        # Registered under the old setting: keeps its 15 working days.
        assert any("15 个工作日" in s for s in (await _view(changed, before))["due_steps"])
    # An explicit period set by the agency wins over the reply period.
    own = api.app.state.settings.model_copy(update={"reply_period_profile": "national-2019", "correction_reply_days": 10})
    async with staff_client(create_app(own, client=client, engine=engine)) as changed:
        created = await changed.post("/api/v1/corrections", json=body, headers=changed.as_user("desk-chen"))
        assert any("10 个工作日" in s for s in (await _view(changed, created.json()["correction_id"]))["due_steps"])
