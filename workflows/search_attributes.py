"""Search attributes the application workflow keeps current, so Temporal's UI can filter by them."""

from datetime import date, datetime

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from clock import end_of_day_instant

STATUS = SearchAttributeKey.for_keyword("DisclosureStatus")
DUE_AT = SearchAttributeKey.for_datetime("DisclosureDueAt")
OVERDUE = SearchAttributeKey.for_bool("DisclosureOverdue")
# Issue 25: the agency an application belongs to (one namespace for the platform; the UI filters by agency).
AGENCY = SearchAttributeKey.for_keyword("DisclosureAgency")

# name -> type, as `temporal server start-dev --search-attribute NAME=TYPE` expects.
REGISTRATION: dict[str, str] = {"DisclosureStatus": "Keyword", "DisclosureDueAt": "Datetime", "DisclosureOverdue": "Bool",
                                "DisclosureAgency": "Keyword"}


def dev_server_flags() -> list[str]:
    return [flag for name, kind in REGISTRATION.items() for flag in ("--search-attribute", f"{name}={kind}")]


def at_registration(due_on: date, agency: str | None = None) -> TypedSearchAttributes:
    """Issue 15 point 2: the values a new application starts with (status handling, its due date, not overdue, and
    its agency: issue 25), given by the API when it starts the workflow, so that its first task need not upsert them."""
    pairs = [SearchAttributePair(STATUS, "handling"), SearchAttributePair(DUE_AT, end_of_day_instant(due_on)),
             SearchAttributePair(OVERDUE, False)]
    if agency:
        pairs.append(SearchAttributePair(AGENCY, agency))
    return TypedSearchAttributes(pairs)


def started_with(given: TypedSearchAttributes) -> tuple[str, datetime, bool] | None:
    """The (status, due at, overdue) the workflow was started with, if all three were given."""
    status, due_at, overdue = given.get(STATUS), given.get(DUE_AT), given.get(OVERDUE)
    if status is None or due_at is None or overdue is None:
        return None
    return status, due_at, overdue
