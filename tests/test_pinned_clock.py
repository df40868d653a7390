"""Issue 20: the pinned runs prove their pin. In every run (pinned with DISCLOSURE_TEST_NOW or not) the
tests' clock, the API's, the activities' and each new workflow's from its first task agree; a year's
turn placed by the `clock_at` fixture is crossed by the API, the activities and the workflows together.
"""

import asyncio
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from temporalio.worker import Worker

from clock.deadline import local_date
from core import clock
from tests import dates
from tests.dates import real_now, session_pin, shanghai
from tests.helpers import application_body, eventually, register, send_registration, since, state, today
from tests.pin_sentinel import FirstTaskTime

# A server stamp taken during a request lies between the tests' clock before and after it; a little
# slack for the dev server's own clock (another process, same machine).
SLACK = timedelta(seconds=2)
DOCUMENT_YEAR = re.compile(r"〔(\d{4})〕")
REAL_START = real_now()


def intended_now() -> datetime:
    """Where the tests' clock must be now, from DISCLOSURE_TEST_NOW alone: the pin plus the real time
    elapsed since the session moved to it; the real time when not pinned."""
    if session_pin(REAL_START) is None:
        return real_now()
    assert dates.SESSION_PIN is not None, "DISCLOSURE_TEST_NOW is set but the session's clock was never moved"
    pinned, moved_at = dates.SESSION_PIN
    return pinned + (real_now() - moved_at)


@pytest.mark.dates
async def test_the_clock_and_a_new_workflow_are_at_the_pinned_instant(client):
    intended = intended_now()
    assert abs(clock.now() - intended) < SLACK, f"the tests' clock is at {clock.now()}, the pin at {intended}"
    assert clock.today() == local_date(clock.now())
    pinned_date = local_date(intended)

    queue = f"sentinel-{uuid.uuid4()}"
    async with Worker(client, task_queue=queue, workflows=[FirstTaskTime]):
        started = clock.now()
        # (No execution timeout: it would count the skipped time.)
        first_task = await asyncio.wait_for(client.execute_workflow(FirstTaskTime.run, id=queue, task_queue=queue), 60)
        ended = clock.now()
    assert started - SLACK <= first_task <= ended + SLACK, (
        f"the workflow's first task ran at {first_task}, the tests' clock was {started}..{ended}")
    assert local_date(first_task) in {pinned_date, local_date(intended_now())}
    assert today() in {pinned_date, local_date(intended_now())}


@pytest.mark.dates
async def test_an_application_is_registered_acknowledged_and_numbered_on_the_tests_clock(api):
    first = today()
    before = clock.now()
    created = await register(api, received_on=first.isoformat())
    after = clock.now()
    app_id = created["application_id"]
    done = await eventually(api, app_id, lambda s: any(letter["kind"] == "acknowledgment" and letter["document_number"]
                                                       for letter in s["letters"]))
    days = since(first)

    registered = next(event for event in done["timeline"] if event["kind"] == "registered")
    at = datetime.fromisoformat(registered["at"].replace("Z", "+00:00"))
    # The first workflow task stamped it: on the tests' clock, not the server's real one.
    assert before - SLACK <= at <= after + SLACK, f"registered at {at}, the tests' clock was {before}..{after}"
    assert app_id.split("-")[-2] == str(shanghai(at).year)  # GK-<year>-<serial>: the API's year

    acknowledgment = next(letter for letter in done["letters"] if letter["kind"] == "acknowledgment")
    rows = (await api.get(f"/api/v1/applications/{app_id}/letters")).json()
    row = next(r for r in rows if r["key"] == f"{app_id}:ack")
    assert row["document_number"] == acknowledgment["document_number"]
    assert row["issued_on"] in days, f"acknowledgment dated {row['issued_on']}, the tests' days {days}"
    assert row["issued_on"] == shanghai(at).isoformat()
    assert DOCUMENT_YEAR.search(row["document_number"]).group(1) == row["issued_on"][:4]


async def test_registrations_across_new_year_are_numbered_dated_and_acknowledged_in_their_own_year(
        isolated_api, clock_at):
    """The year turns during a burst (Shanghai's midnight, RULES §3): numbers run per year (each year's
    dense), and each application's number, registered event and acknowledgment agree on its year."""
    api = isolated_api
    half = 6

    with clock_at.before_new_year(seconds=30) as placed:
        await api.log_in_all()  # the tokens of the real day have long expired on New Year's Eve
        old_year = today().year
        # The first half 8 s before midnight (time enough for their first workflow task and acknowledgment
        # in the old year), the second half as soon as the new year has begun.
        while clock.now() < placed + timedelta(seconds=22):
            await asyncio.sleep(0.05)

        async def one(n: int):
            if n >= half:
                while today().year == old_year:
                    await asyncio.sleep(0.05)
            return await send_registration(api, application_body(received_on=today().isoformat()))

        responses = await asyncio.gather(*(one(n) for n in range(2 * half)))
        assert [r.status_code for r in responses] == [201] * (2 * half), [r.text for r in responses]
        numbers = sorted(r.json()["application_id"] for r in responses)
        by_year: dict[int, list[int]] = {}
        for number in numbers:
            year, serial = number.rsplit("-", 2)[1:]
            by_year.setdefault(int(year), []).append(int(serial))
        assert sorted(by_year) == [old_year, old_year + 1], numbers
        assert len(by_year[old_year + 1]) >= half
        for serials in by_year.values():
            assert serials == list(range(serials[0], serials[0] + len(serials))), "dense: no gaps, no repeats"
        assert by_year[old_year + 1][0] == 1, "the new year's numbers start at 1"

        for response in (responses[0], responses[-1]):
            app_id = response.json()["application_id"]
            year = int(app_id.split("-")[-2])
            done = await eventually(api, app_id, lambda s: any(
                letter["kind"] == "acknowledgment" and letter["document_number"] for letter in s["letters"]))
            registered = next(event for event in done["timeline"] if event["kind"] == "registered")
            assert shanghai(registered["at"]).year == year, (app_id, registered["at"])
            assert done["received_on"][:4] == str(year)
            rows = (await api.get(f"/api/v1/applications/{app_id}/letters")).json()
            ack = next(r for r in rows if r["key"] == f"{app_id}:ack")
            assert ack["issued_on"][:4] == str(year) and DOCUMENT_YEAR.search(ack["document_number"]).group(1) == str(year)
