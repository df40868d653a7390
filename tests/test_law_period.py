"""Issue 11 point 7: the reply period is the agency's setting, fixed on each application at intake."""

from tests.conftest import staff_client
from tests.helpers import application_body, register, send_registration, state

from api.main import create_app


async def test_neither_the_form_nor_the_desk_chooses_the_period(api):
    desk = await send_registration(api, application_body(policy="national-2019"))
    assert desk.status_code == 422, desk.text
    public = await send_registration(api, application_body(policy="national-2019", registered_by="online-form"))
    assert public.status_code == 422, public.text


async def test_the_agency_setting_applies_to_new_applications_only(api, client, engine):
    before = await register(api)
    assert (await state(api, before["application_id"]))["due"]["working_days_total"] == 15
    national = api.app.state.settings.model_copy(update={"reply_period_profile": "national-2019"})
    async with staff_client(create_app(national, client=client, engine=engine)) as changed:
        after = await register(changed)
        view = await state(changed, after["application_id"])
        assert view["policy"] == "national-2019" and view["due"]["working_days_total"] == 20
        deadline = (await changed.get("/api/v1/calendar/deadline",
                                      params={"received": after["received_on"], "days": 20})).json()
        assert after["due_on"] == deadline["due_on"]
        # The application registered under the old setting keeps its 15 working days.
        kept = await state(changed, before["application_id"])
        assert kept["policy"] == "local" and kept["due"]["working_days_total"] == 15
