"""From requests to the catalogue (issue 13 point 5) on the real server: information several applicants
asked for is offered for proactive disclosure (the repeat detection's similarity, across applicants),
and a released record is published as a separately reviewed public copy while the copy the applicant
received stays sealed with its checksum."""

import hashlib
import uuid

from sqlmodel import Session

from db.letters_repository import FileStore
from db.models_letters import LetterAttachment
from db.models_proactive import CatalogueItem
from tests.helpers import act, eventually, register, through_review
from tests.test_proactive import _category, _row, _view


def _applicant(name: str) -> dict:
    return {"name": name, "type": "natural-person", "email": f"{uuid.uuid4().hex[:8]}@example.cn"}


async def test_information_several_applicants_asked_for_is_offered_for_the_catalogue(api):
    token = uuid.uuid4().hex[:6]
    subject = f"某区外卖平台从业人员工资抽样调查数据{token}"
    zhao = _applicant("赵一")
    ids = [(await register(api, applicant=applicant, items=[{"description": text}]))["application_id"]
           for applicant, text in ((zhao, subject), (zhao, f"{subject}（补充申请）"), (_applicant("钱二"), f"2025年{subject}"))]
    # Unrelated, and asked by nobody else in the session's database (other tests ask for 统计年鉴s).
    unrelated = (await register(api, applicant=_applicant("李五"),
                                items=[{"description": f"某县养老机构床位数统计{token}"}]))["application_id"]
    # Zhao asked twice: two applicants only, not "several" (three by default).
    assert (await api.get("/api/v1/catalogue/requested-often", params={"application_id": ids[0]})).json() == []
    two = (await api.get("/api/v1/catalogue/requested-often", params={"application_id": ids[0], "min_applicants": 2})).json()
    assert len(two) == 1 and two[0]["applicants"] == 2 and set(ids) <= set(two[0]["application_ids"])
    ids.append((await register(api, applicant=_applicant("孙三"), items=[{"description": f"{subject}（2025年）"}]))["application_id"])

    found = (await api.get("/api/v1/catalogue/requested-often", params={"application_id": ids[0]})).json()
    assert len(found) == 1, found
    group = found[0]
    assert set(ids) <= set(group["application_ids"]) and unrelated not in group["application_ids"]
    assert group["applicants"] == 3 and token in group["subject"]
    assert (await api.get("/api/v1/catalogue/requested-often", params={"application_id": unrelated})).json() == []
    assert any(set(ids) <= set(g["application_ids"]) for g in (await api.get("/api/v1/catalogue/requested-often")).json())
    assert (await api.get("/api/v1/catalogue/requested-often", params={"min_applicants": 1})).status_code == 422

    # The proposal starts a catalogue item with the request's subject, naming the applications.
    await _category(api)
    created = await api.post("/api/v1/catalogue/items", headers=api.as_user("wang"), json={
        "title": group["subject"], "category_id": "statistics-data", "produced_on": "2026-01-05",
        "content": "拟主动公开", "requested_in": group["application_ids"]})
    assert created.status_code == 201, created.text
    view = await _view(api, created.json()["item_id"])
    assert view["title"] == subject or token in view["title"]
    assert set(ids) <= set(view["requested_in"]) and view["phase"] == "in-review"


async def test_a_released_record_is_published_as_a_reviewed_public_copy_and_the_sent_copy_stays_sealed(api, engine, settings):
    await _category(api)
    app_id = (await register(api, applicant=_applicant("周四"),
                             items=[{"description": "2025年统计执法检查处罚决定书"}]))["application_id"]
    original = f"行政处罚决定书 当事人：周四 身份证号 11010519491231002X 电话 13812345678 {uuid.uuid4()}".encode()
    uploaded = await api.post(f"/api/v1/applications/{app_id}/attachments", data={"item_no": "1", "version": "original"},
                              files={"file": ("处罚决定书.pdf", original, "application/pdf")}, headers=api.as_user("wang"))
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    body = {"application_id": app_id, "attachment_id": attachment["id"], "title": "2025年统计执法检查处罚决定（公开副本）",
            "category_id": "statistics-data", "content": "行政处罚决定书 当事人：某企业 违法事实：……"}

    # Not released yet: refused with the reason.
    early = await api.post("/api/v1/catalogue/public-copies", json=body, headers=api.as_user("wang"))
    assert early.status_code == 409 and "随答复告知书送出" in early.json()["detail"]

    await through_review(api, app_id, {1: ("disclosed", "")})
    await act(api, app_id, "sign", {"by": "chief-liu"})
    await eventually(api, app_id, lambda s: s["status"] == "closed")

    # Personal data left in the public copy is refused (the confidentiality pre-screen).
    leaky = await api.post("/api/v1/catalogue/public-copies", headers=api.as_user("wang"),
                           json=body | {"content": "当事人周四，电话 13812345678"})
    assert leaky.status_code == 422 and "电话号码" in leaky.json()["detail"]
    assert (await api.post("/api/v1/catalogue/public-copies", json=body | {"attachment_id": 10**9},
                           headers=api.as_user("wang"))).status_code == 404

    created = await api.post("/api/v1/catalogue/public-copies", json=body, headers=api.as_user("wang"))
    assert created.status_code == 201, created.text
    item_id = created.json()["item_id"]
    view = await _view(api, item_id)
    assert view["source"]["application_id"] == app_id and view["source"]["sha256"] == attachment["sha256"]
    assert view["requested_in"] == [app_id] and view["phase"] == "in-review"
    # Reviewed like any catalogue item: not published before the confidentiality review.
    refused = await api.post(f"/api/v1/catalogue/items/{item_id}/publish", json={"url": "/gk/copy.html"},
                             headers=api.as_user("wang"))
    assert refused.status_code == 409 and "保密审查" in refused.json()["detail"]
    await api.post(f"/api/v1/catalogue/items/{item_id}/review", json={"approve": True}, headers=api.as_user("reviewer-zhao"))
    published = (await api.post(f"/api/v1/catalogue/items/{item_id}/publish", json={"url": "/gk/copy.html"},
                                headers=api.as_user("wang"))).json()
    public_sha = hashlib.sha256(body["content"].encode()).hexdigest()
    assert published["evidence"][0]["content_sha256"] == public_sha != attachment["sha256"]

    row = await _row(engine, item_id, lambda r: r.status == "published")
    assert (row.source_application_id, row.source_sha256, row.content_sha256) == (app_id, attachment["sha256"], public_sha)
    # The sealed copy: the same bytes under the same checksum, the attachment row unchanged.
    assert FileStore(settings.data_dir).get_verified(attachment["sha256"]) == original
    assert hashlib.sha256(original).hexdigest() == attachment["sha256"]
    with Session(engine) as session:
        kept = session.get(LetterAttachment, attachment["id"])
        assert (kept.sha256, kept.size, kept.application_id) == (attachment["sha256"], len(original), app_id)
        assert session.get(CatalogueItem, item_id).url == "/gk/copy.html"
