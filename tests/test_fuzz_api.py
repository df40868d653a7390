"""Property-based fuzz of the whole API from its OpenAPI document (schemathesis): no request, however
odd, gets a server error (5xx). Logged in as a supervisor (the client's default), plus anonymous calls.

Bounded for CI: a few derandomized examples per operation (same inputs every run), about two minutes.
Cases are generated in a thread (Hypothesis is synchronous) and sent on the session's event loop,
where the Temporal client lives.
"""

import asyncio

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.openapi import from_dict

from tests.helpers import StaffClient

EXAMPLES = 12
SENT_HEADERS = {"content-type", "x-query-code", "authorization", "accept"}


async def test_fuzzed_requests_never_get_a_server_error(api: StaffClient, anon: httpx.AsyncClient):
    schema = from_dict(api.app.openapi())
    operations = [result.ok() for result in schema.get_all_operations()]
    loop = asyncio.get_running_loop()
    problems: list[str] = []
    sent = 0

    async def send(http: httpx.AsyncClient, kwargs: dict) -> httpx.Response:
        headers = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() in SENT_HEADERS}
        return await http.request(kwargs["method"], kwargs["url"], params=kwargs.get("params"), headers=headers,
                                  json=kwargs.get("json"), data=kwargs.get("data"), files=kwargs.get("files"),
                                  content=kwargs.get("content"), timeout=30)

    def fuzz(operation) -> None:
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case) -> None:
            nonlocal sent
            kwargs = case.as_transport_kwargs(base_url="http://api")
            for http in (api, anon):
                response = asyncio.run_coroutine_threadsafe(send(http, kwargs), loop).result(timeout=60)
                sent += 1
                if response.status_code >= 500:
                    problems.append(f"{kwargs['method']} {kwargs['url']} -> {response.status_code}: {response.text[:200]}")
                elif response.status_code >= 400 and response.headers.get("content-type", "").startswith("application/json"):
                    detail = response.json().get("detail")
                    if not isinstance(detail, str) or detail.isascii():
                        problems.append(f"{kwargs['method']} {kwargs['url']} -> {response.status_code} without a "
                                        f"Chinese detail: {response.text[:200]}")

        check()

    def run_all() -> None:
        for operation in operations:
            fuzz(operation)

    await asyncio.wait_for(asyncio.to_thread(run_all), timeout=600)  # a hang guard, not a speed check
    print(f"fuzz: {len(operations)} operations, {sent} requests")
    assert sent > len(operations) * 2
    assert not problems, "\n".join(problems[:20])
