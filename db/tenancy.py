"""Which agency a row belongs to, and the one place every read is limited to the caller's agency (issue 25, RULES §12).

A table whose rows belong to one agency declares `agency: str = agency_field()` (the mixin `AgencyOwned` marks
it). Two rules hold for all of them at once, here and nowhere else:

- **Reads**: while a staff member's request runs, `CURRENT_AGENCY` holds their agency (set by the API's
  middleware from their token: api/tenancy.py), and every ORM query of an `AgencyOwned` table, in any session of
  the process, gets `agency = <theirs>` added (SQLAlchemy's `with_loader_criteria`, the library's own recipe for
  multi-tenancy). A route cannot forget it: it never writes the filter.
- **Writes**: a row written without an agency gets the current one, or outside a request (workers, admin
  commands) the installation's first agency (`FIRST_AGENCY`, from DISCLOSURE_AGENCY_CODE), so a single-agency
  installation never names one.

Workers and admin commands run without `CURRENT_AGENCY`: they act on business ids they were given, for any
agency. The platform's supervisors (政府信息公开工作主管部门) read across agencies through `all_agencies()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Column, CompoundSelect, Engine, Select, String, event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

AGENCY_CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{1,19}$"
CURRENT_AGENCY: ContextVar[str | None] = ContextVar("current_agency", default=None)
FIRST_AGENCY = "main"  # replaced at start-up by configure() from the settings


def configure(first_agency: str) -> None:
    """The installation's first agency: the owner of rows written without one outside a staff request."""
    global FIRST_AGENCY
    FIRST_AGENCY = first_agency


def default_agency() -> str:
    return CURRENT_AGENCY.get() or FIRST_AGENCY


class AgencyOwned:
    """Marks a table whose rows belong to one agency (its column: `agency_column()`)."""


def agency_column() -> Column:
    # A Python-side default (Core inserts too): the caller's agency, or the first one; no server default, so a
    # row can never silently fall to an agency the database chose.
    return Column("agency", String(20), nullable=False, index=True, default=default_agency)


@contextmanager
def acting_for(agency: str | None) -> Iterator[None]:
    """Reads and writes limited to `agency` (None: unlimited) for the block."""
    token = CURRENT_AGENCY.set(agency)
    try:
        yield
    finally:
        CURRENT_AGENCY.reset(token)


@contextmanager
def all_agencies() -> Iterator[None]:
    """Across every agency: the platform's supervisors' figures, the public tracking page, workers."""
    with acting_for(None):
        yield


@event.listens_for(Session, "do_orm_execute")
def _limit_to_the_callers_agency(state: ORMExecuteState) -> None:
    agency = CURRENT_AGENCY.get()
    if agency is None or state.is_column_load or state.is_relationship_load or not state.is_orm_statement:
        return  # a Core statement run through a session: the engine's rewrite below limits it
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(*(
            with_loader_criteria(owned, lambda cls: cls.agency == agency, include_aliases=True)
            for owned in AgencyOwned.__subclasses__()))


# --- Core statements (the pages' and reports' hand-written SELECTs) ------------------------------------------------
# They bypass the ORM's criteria; the engine rewrites them instead, in the same one place: every agency-owned table
# a SELECT reads becomes that table limited to the caller's agency (a subquery the databases flatten back into the
# query, indexes included). INSERT/UPDATE/DELETE by Core are the workers' and intake's, keyed by business ids.

def _owned_tables() -> dict:
    return {owned.__table__: owned for owned in AgencyOwned.__subclasses__()}  # type: ignore[attr-defined]


def _limited(statement, agency: str):
    from sqlalchemy import select as core_select
    from sqlalchemy.sql.util import ClauseAdapter, find_tables

    owned = _owned_tables()
    read = [t for t in find_tables(statement, check_columns=True, include_aliases=False) if t in owned]
    for table in dict.fromkeys(read):
        scoped = core_select(table).where(table.c.agency == agency).subquery(f"{table.name}_of_agency")
        statement = ClauseAdapter(scoped).traverse(statement)
    return statement


# A statement that names the agencies itself (`.execution_options(**UNLIMITED)`): left as written.
UNLIMITED = {"all_agencies": True}


@event.listens_for(Engine, "before_execute", retval=True)
def _limit_core_reads(conn, clauseelement, multiparams, params, execution_options):
    agency = CURRENT_AGENCY.get()
    if agency is None or not isinstance(clauseelement, (Select, CompoundSelect)):
        return clauseelement, multiparams, params
    if clauseelement.get_execution_options().get("all_agencies"):
        return clauseelement, multiparams, params
    if clauseelement._propagate_attrs.get("compile_state_plugin") == "orm":
        return clauseelement, multiparams, params  # the ORM's own criteria (above) limit it
    return _limited(clauseelement, agency), multiparams, params
