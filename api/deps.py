"""Request dependencies: the Temporal client, a DB session, settings and the current calendar."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session
from temporalio.client import Client

from api.registration import RegistrationWrites
from core.config import Settings
from services.calendar import CalendarSource  # noqa: F401  (moved to services/; bench/ imports it from here)


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
