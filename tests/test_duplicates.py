"""Issue 23 point 6: Back, then 提交 again, no longer makes a second application unnoticed.

The same applicant (the same checked identity number) asking for the same items within a day is refused
with 409 naming the earlier number — nothing is registered — unless the request says it means to apply
again (`resubmit`); then both applications are "可能重复" for staff, each pointing to the other."""

import uuid

from sqlmodel import Session, select

from db.models_fees import ApplicantIdentity

from tests.helpers import application_body, send_registration, some_identity

PUBLIC = ("applicant", "items", "delivery_method")


def public_body(identity: str, *descriptions: str) -> dict:
    body = application_body(applicant={"name": "重复用户", "type": "natural-person", "id_number": identity,
                                       "email": "again@example.cn"},
                            items=[{"description": d} for d in descriptions])
    return {k: body[k] for k in PUBLIC} | {"registered_by": "online-form"}


async def test_the_same_request_again_within_a_day_names_the_earlier_number_and_registers_nothing(api, engine):
    identity = some_identity()
    subject = f"2025年统计公报（{uuid.uuid4().hex[:6]}）"
    first = await send_registration(api, public_body(identity, subject, "2025年统计年鉴"))
    assert first.status_code == 201, first.text
    earlier = first.json()["application_id"]

    # the same items in another order, spaces aside, the number written with spaces: the same request
    again = await send_registration(api, public_body(f" {identity[:6]} {identity[6:]} ", "2025年统计年鉴",
                                                     subject.replace("（", " （")))
    assert again.status_code == 409, again.text
    assert earlier in again.json()["detail"] and "不必重复提交" in again.json()["detail"]
    # Nothing registered the second time: this identity has one application (the session's database is shared).
    with Session(engine) as session:
        registered = session.exec(select(ApplicantIdentity.application_id)
                                  .where(ApplicantIdentity.identity == identity)).all()
    assert registered == [earlier]

    # a different request of the same applicant is no repeat
    other = await send_registration(api, public_body(identity, f"2024年统计公报（{uuid.uuid4().hex[:6]}）"))
    assert other.status_code == 201, other.text
    assert (await api.get(f"/api/v1/applications/{other.json()['application_id']}/possible-duplicates")).json() == []

    # said on purpose: registered, and both are marked for staff, each with the other's number
    meant = await send_registration(api, public_body(identity, subject, "2025年统计年鉴") | {"resubmit": True})
    assert meant.status_code == 201, meant.text
    second = meant.json()["application_id"]
    for one, the_other in ((earlier, second), (second, earlier)):
        marked = await api.get(f"/api/v1/applications/{one}/possible-duplicates")
        assert marked.status_code == 200, marked.text
        assert [d["application_id"] for d in marked.json()] == [the_other]


async def test_the_desk_is_told_too(api):
    identity = some_identity()
    body = application_body(applicant={"name": "窗口重复", "type": "natural-person", "id_number": identity},
                            delivery_method="pickup", items=[{"description": f"统计执法记录（{uuid.uuid4().hex[:6]}）"}])
    first = await send_registration(api, body)
    assert first.status_code == 201, first.text
    again = await send_registration(api, body)
    assert again.status_code == 409 and first.json()["application_id"] in again.json()["detail"]
