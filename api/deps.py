"""Request dependencies: the Temporal client, a DB session, settings and the current calendar."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio.client import Client

from api.registration import RegistrationWrites
from core.config import Settings
from db.repository import published_calendar_years
from workcalendar import CalendarData, WorkCalendar, load_calendar_data, parse_year_schedule


class CalendarSource:
    """The calendar the agency works by: package data + shipped file + years published here.

    Cached: it changes only when an admin publishes a year, which calls `refresh`.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._data: CalendarData | None = None
        # Per receipt year, made once per calendar (intake asks on every registration).
        self._since: dict[int, tuple[CalendarData, WorkCalendar]] = {}

    def current(self) -> CalendarData:
        if self._data is None:
            self.refresh()
        assert self._data is not None
        return self._data

    def since(self, year: int) -> CalendarData:
        """Only the years an application received in `year` can touch: keeps workflow inputs small."""
        return self._for_year(year)[0]

    def work_calendar_since(self, year: int) -> WorkCalendar:
        return self._for_year(year)[1]

    def _for_year(self, year: int) -> tuple[CalendarData, WorkCalendar]:
        since = self._since  # before current(): a refresh in between leaves the entry in the discarded dict
        cached = since.get(year)
        if cached is None:
            data = CalendarData(years={y: s for y, s in self.current().years.items() if y >= year})
            cached = since[year] = (data, WorkCalendar(data))
        return cached

    def refresh(self) -> None:
        with Session(self._engine) as session:
            published = [parse_year_schedule(p) for p in published_calendar_years(session)]
        self._data, self._since = load_calendar_data(extra=published), {}


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


# Plain lookups are `async def`: FastAPI runs a sync dependency in a worker thread, a hop per
# dependency per request, which cost more CPU than the lookup itself.

async def get_client(request: Request) -> Client:
    return request.app.state.temporal


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_calendar_source(request: Request) -> CalendarSource:
    return request.app.state.calendar


async def get_registration_writes(request: Request) -> RegistrationWrites:
    return request.app.state.registration


SessionDep = Annotated[Session, Depends(get_session)]
ClientDep = Annotated[Client, Depends(get_client)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
CalendarDep = Annotated[CalendarSource, Depends(get_calendar_source)]
RegistrationDep = Annotated[RegistrationWrites, Depends(get_registration_writes)]
