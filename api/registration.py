"""The registration desk's database writes, group-committed (db/group_commit.py).

Every registration takes the next number from one counter row, and at 100 concurrent clients a
transaction each made them queue on that row's commit. The numbers are still dense and in order of
arrival within a process; a number whose registration fails is spent (a gap, never a duplicate).

Listing is idempotent (the row, its items, events and the query code each only if absent): a
registration retried under its Idempotency-Key, or repaired later (`repair_registrations`), lists
the application it started without a second row or a second code.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from clock import DueDate
from db.models import utcnow
from db.fees_repository import identity_rows, insert_identities
from db.repository import allocate_application_numbers, insert_applications_if_absent, insert_query_codes_if_absent
from db.session import session_scope, write_turn
from db.group_commit import GroupCommit
from contracts.intake import ApplicationInput
from workflows.records import initial_record, registration_event


@dataclass(frozen=True)
class NumberRequest:
    year: int
    prefix: str
    agency: str | None = None  # issue 25: numbers are per agency and year (None: the first agency)
    pattern: str | None = None


@dataclass(frozen=True)
class FirstListing:
    """The row an application is listed by at once, and its applicant's query code (hashed)."""

    application: ApplicationInput
    due: DueDate
    code_hash: str


class RegistrationWrites:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.numbers = GroupCommit("application-numbers", self._allocate)
        self.listings = GroupCommit("first-listings", self._list)
        self._last_repair = float("-inf")
        self._repair: object = None  # the running repair task (kept referenced)

    def repair_soon(self, client) -> None:
        """After a registration, at most once a minute per process: list what failed registrations started."""
        import asyncio
        import time

        if time.monotonic() - self._last_repair < REPAIR_INTERVAL_SECONDS:
            return
        self._last_repair = time.monotonic()

        async def repair() -> None:
            try:
                await repair_registrations(self.engine, client, self)
            except Exception:  # the next registration tries again
                logging.getLogger("disclosure.api").exception("repair of unlisted registrations failed")

        self._repair = asyncio.get_running_loop().create_task(repair())

    async def next_number(self, year: int, prefix: str, agency: str | None = None, pattern: str | None = None) -> str:
        return await self.numbers.submit(NumberRequest(year, prefix, agency, pattern))

    async def list_now(self, application: ApplicationInput, due: DueDate, code_hash: str) -> None:
        await self.listings.submit(FirstListing(application, due, code_hash))

    def _allocate(self, requests: Sequence[NumberRequest]) -> list[str]:
        positions: dict[NumberRequest, list[int]] = {}
        for i, request in enumerate(requests):  # all but at New Year, one year and one prefix
            positions.setdefault(request, []).append(i)
        numbers = [""] * len(requests)
        with write_turn(self.engine), session_scope(self.engine) as session:
            for request, wanting in positions.items():
                allocated = allocate_application_numbers(session, request.year, len(wanting), request.prefix,
                                                         request.agency, request.pattern)
                for i, number in zip(wanting, allocated, strict=True):
                    numbers[i] = number
        return numbers

    def _list(self, listings: Sequence[FirstListing]) -> list[None]:
        with write_turn(self.engine), session_scope(self.engine) as session:
            insert_applications_if_absent(session, [
                (initial_record(listing.application, listing.due), [registration_event(listing.application, listing.due)])
                for listing in listings
            ])
            # 按件计收 counts the applicant's applications of a month by identity (issue 11 point 12).
            insert_identities(session, identity_rows([(listing.application.application_id,
                                                       listing.application.applicant.id_number,
                                                       listing.application.received_on) for listing in listings]))
            now = utcnow()
            insert_query_codes_if_absent(session, [
                {"application_id": listing.application.application_id, "code_hash": listing.code_hash, "created_at": now}
                for listing in listings
            ])
        return [None] * len(listings)


# --- exactly-once intake under an Idempotency-Key (api/idempotency.py) ---------------------------

RESERVATION = "registration"
OWNER_MEMO = "idempotency"  # the memo naming the key that started an application's workflow
REPAIR_INTERVAL_SECONDS = 60


def reservation(application: ApplicationInput, due: DueDate, code_hash: str) -> dict:
    """What a registration decides before starting its workflow, kept with its key."""
    return {"input": application.model_dump(mode="json"), "due": due.model_dump(mode="json"), "code_hash": code_hash}


def from_reservation(kept: dict) -> FirstListing:
    return FirstListing(ApplicationInput.model_validate(kept["input"]), DueDate.model_validate(kept["due"]),
                        kept["code_hash"])


async def started_by(client, workflow_id: str, scope: str) -> bool:
    """Whether the workflow `workflow_id` was started under the key `scope` (its memo says so)."""
    from temporalio.service import RPCError, RPCStatusCode

    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return await description.memo_value(OWNER_MEMO, None) == scope


async def repair_registrations(engine: Engine, client, writes: RegistrationWrites) -> list[str]:
    """List the applications whose workflow started but whose request failed before listing them.

    Their keys hold the reservation (number, input, query-code hash); a workflow that never started
    is left alone (the applicant was told registration failed; a retry with the key starts it).
    Returns the application numbers listed.
    """
    import asyncio

    from api.idempotency import open_reservations, store_reserved

    listed = []
    for scope, kept in await asyncio.to_thread(open_reservations, engine, RESERVATION):
        if kept.get("listed"):
            continue
        listing = from_reservation(kept[RESERVATION])
        if await started_by(client, listing.application.application_id, scope):
            await writes.list_now(listing.application, listing.due, listing.code_hash)
            await asyncio.to_thread(store_reserved, engine, scope, kept | {"listed": True})
            listed.append(listing.application.application_id)
    return listed
