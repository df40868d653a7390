"""The registration desk's database writes, group-committed (core/group_commit.py).

Every registration takes the next number from one counter row, and at 100 concurrent clients a
transaction each made them queue on that row's commit. The numbers are still dense and in order of
arrival within a process; a number whose registration fails is spent (a gap, never a duplicate).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from clock import DueDate
from db.models import utcnow
from db.models_security import ApplicantAccess
from db.fees_repository import identity_rows, insert_identities
from db.repository import allocate_application_numbers, insert_applications_if_absent
from db.session import session_scope, write_turn
from core.group_commit import GroupCommit
from workflows.messages import ApplicationInput
from workflows.records import initial_record, registration_event


@dataclass(frozen=True)
class NumberRequest:
    year: int
    prefix: str


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

    async def next_number(self, year: int, prefix: str) -> str:
        return await self.numbers.submit(NumberRequest(year, prefix))

    async def list_now(self, application: ApplicationInput, due: DueDate, code_hash: str) -> None:
        await self.listings.submit(FirstListing(application, due, code_hash))

    def _allocate(self, requests: Sequence[NumberRequest]) -> list[str]:
        positions: dict[NumberRequest, list[int]] = {}
        for i, request in enumerate(requests):  # all but at New Year, one year and one prefix
            positions.setdefault(request, []).append(i)
        numbers = [""] * len(requests)
        with write_turn(self.engine), session_scope(self.engine) as session:
            for request, wanting in positions.items():
                allocated = allocate_application_numbers(session, request.year, len(wanting), request.prefix)
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
            session.connection().execute(ApplicantAccess.__table__.insert(), [  # type: ignore[attr-defined]
                {"application_id": listing.application.application_id, "code_hash": listing.code_hash, "created_at": now}
                for listing in listings
            ])
        return [None] * len(listings)
