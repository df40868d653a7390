"""Issue 12 point 3: Temporal payloads tolerate unknown fields; HTTP bodies refuse them.

A newer worker may add a field to the view; an older API replica must still decode it (through the
real data converter, Pydantic JSON + AES-GCM codec). A request body with an unknown field, even
nested in the applicant or a consultee, is still a 422.
"""

import json
from datetime import date

from temporalio.api.common.v1 import Payload

from core.codec import encrypted_data_converter
from tests.helpers import TEST_CODEC_KEYS, StaffClient, application_body, register
from tests.test_application_rules import a_state
from workflows.application_views import application_view
from contracts.application_view import ApplicationView


async def test_a_view_with_a_field_this_version_does_not_know_decodes():
    converter = encrypted_data_converter(TEST_CODEC_KEYS)
    view = application_view(a_state(), date(2026, 3, 2))
    plain = converter.payload_converter.to_payloads([view])[0]
    newer = json.loads(plain.data) | {"field_from_a_newer_worker": {"anything": [1, 2]}}
    newer["items"][0]["item_field_from_a_newer_worker"] = "x"
    payload = Payload(metadata=dict(plain.metadata), data=json.dumps(newer).encode())
    [encrypted] = await converter.payload_codec.encode([payload])
    assert encrypted.data != payload.data  # the real codec is in the path
    [decoded] = await converter.decode([encrypted], [ApplicationView])
    assert decoded == view


async def test_http_bodies_still_refuse_unknown_fields_also_nested(api: StaffClient):
    body = application_body()
    body["applicant"] = body["applicant"] | {"nickname": "小张"}
    response = await api.post("/api/v1/applications", json=body, headers=api.as_user("desk-chen"))
    assert response.status_code == 422 and "不接受此字段" in response.text, response.text
    app_id = (await register(api))["application_id"]
    response = await api.post(f"/api/v1/applications/{app_id}/consultations", headers=api.as_user("wang"),
                              json={"item_nos": [1], "consultee": {"kind": "third-party", "name": "某公司", "phone": "1"}})
    assert response.status_code == 422 and "不接受此字段" in response.text, response.text
