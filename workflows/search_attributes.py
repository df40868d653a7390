"""Search attributes the application workflow keeps current, so Temporal's UI can filter by them."""

from temporalio.common import SearchAttributeKey

STATUS = SearchAttributeKey.for_keyword("DisclosureStatus")
DUE_AT = SearchAttributeKey.for_datetime("DisclosureDueAt")
OVERDUE = SearchAttributeKey.for_bool("DisclosureOverdue")

# name -> type, as `temporal server start-dev --search-attribute NAME=TYPE` expects.
REGISTRATION: dict[str, str] = {"DisclosureStatus": "Keyword", "DisclosureDueAt": "Datetime", "DisclosureOverdue": "Bool"}


def dev_server_flags() -> list[str]:
    return [flag for name, kind in REGISTRATION.items() for flag in ("--search-attribute", f"{name}={kind}")]
