"""Issue 23 points 9 and 10 at the API: no English or machine text where people read, and the small slips.

- a 422's summary names the field in Chinese ("password：内容过短" was shown on the admin page);
- the 补正告知书 says where the supplement is answered online (/track);
- the due-date explanation carries no English gloss."""

import re
import uuid

from tests.helpers import act, eventually, mails_about, register


async def test_a_refused_field_is_named_in_chinese(api):
    answer = await api.post("/api/v1/admin/users", headers=api.as_user("admin"), json={
        "username": f"short-{uuid.uuid4().hex[:6]}", "password": "short", "roles": ["registrar"]})
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert "密码：" in detail and "password" not in detail
    body = {"channel": "online", "applicant": {"name": "张三", "id_number": "123"}, "items": [{"description": "x"}],
            "delivery_method": "email", "received_on": "2026-01-01"}
    detail = (await api.post("/api/v1/applications", json=body, headers=api.as_user("desk-chen"))).json()["detail"]
    assert "申请人证件号码：" in detail and "所需信息第 1 项：" in detail, detail
    assert not any(word in detail for word in ("applicant", "id_number", "items", "description")), detail


async def test_the_supplement_notice_links_to_the_page_where_it_is_answered(api, mailbox, settings):
    address = f"supplement-{uuid.uuid4().hex[:6]}@words.example.cn"
    app_id = (await register(api, applicant={"name": "孙八", "type": "natural-person", "email": address}))["application_id"]
    await act(api, app_id, "supplement-request", {"needed": ["请写明报表的名称"], "by": "wang"})
    await eventually(api, app_id, lambda s: [e["kind"] for e in s["timeline"]].count("letter-sent") >= 2)
    [notice] = [m for m in mails_about([e for e in mailbox.envelopes if address in e.rcpt_tos], app_id)
                if "补正" in m["Subject"]]
    text = notice.get_body(("plain",)).get_content()
    assert f"{settings.public_base_url.rstrip('/')}/track" in text and app_id in text and "查询码" in text


async def test_the_due_date_explanation_is_in_chinese(api):
    created = await register(api)
    assert created["due_explanation"][0].endswith("当日为第 0 日") or "顺延至" in created["due_explanation"][0]
    # the receipt step had an English sentence inside ("is a working day: day 0"); the pages drop the other
    # steps' bracketed glosses (api.pages.common.chinese_only), this one was not bracketed apart
    assert not re.search("[A-Za-z]{3,}", created["due_explanation"][0]), created["due_explanation"][0]


# --- point 4: the third party's link lives as long as its answer window ------------------------------


def test_the_link_is_open_until_the_end_of_the_window_counted_from_receipt():
    from datetime import timedelta

    from api.routes.third_party import link_open
    from core import clock
    from contracts.consultations import ConsultationView

    today = clock.today()
    expired_token = int((clock.now() - timedelta(days=3)).timestamp())  # the letter's fixed 20 days are over

    def view(window_ends_on):
        return ConsultationView(consultation_id="X.consult-1", consultee_kind="third-party", consultee_name="某公司",
                                item_descriptions=["某报表"], sent_on=today - timedelta(days=25),
                                window_ends_on=window_ends_on, answered=False)

    assert link_open(view(today), expired_token)  # the whole last day
    assert link_open(view(today + timedelta(days=6)), expired_token)  # a posted letter received late: moved on
    assert link_open(view(None), expired_token)  # receipt not proven yet: the window has not started
    assert not link_open(view(today - timedelta(days=1)), expired_token)
    assert link_open(view(today - timedelta(days=1)), int((clock.now() + timedelta(hours=1)).timestamp()))


# --- point 7: publishing in the product itself needs no external URL ----------------------------------


async def test_an_item_published_in_the_product_needs_no_external_url(api, settings):
    from tests.test_proactive import _category, _create, _view

    await _category(api)
    title_marker = uuid.uuid4().hex[:6]
    created = await _create(api, document_number=f"统发〔2026〕{title_marker}号", content="本产品内发布的目录条目。")
    item_id = created["item_id"]
    await _view(api, item_id)
    assert (await api.post(f"/api/v1/catalogue/items/{item_id}/review", json={"approve": True},
                           headers=api.as_user("reviewer-zhao"))).status_code == 200
    published = await api.post(f"/api/v1/catalogue/items/{item_id}/publish", json={}, headers=api.as_user("wang"))
    assert published.status_code == 200, published.text
    url = published.json()["evidence"][0]["url"]
    assert url.startswith(f"{settings.public_base_url.rstrip('/')}/catalogue?title="), url
