"""The base of every model that crosses the Temporal boundary (workflow/activity payloads).

Unknown fields are ignored (issue 12, point 3): a newer worker may add a field to a view or a
message and an older API replica or an older history must still decode it. HTTP request bodies are
the opposite: they refuse unknown fields (api/schemas.py `Body`, extra="forbid" -> 422).
"""

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")


Actor = str


class Strict(Payload):
    """Base of the workflow messages. Historical name: payloads tolerate unknown fields (issue 12 point 3);
    HTTP bodies built from these messages forbid them (api/schemas.py Body)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
