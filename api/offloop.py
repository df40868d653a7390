"""Blocking work reached from `async def` routes runs in worker threads, never on the event loop (issue 12 point 7).

One event loop serves every request of an API process: a database query, a file write or a PDF render
done on it stops every other request (and the calendar check, and Temporal's client) until it ends.
`blocking(fn, ...)` runs such a call in the thread pool that FastAPI runs `def` routes in;
`rendering(request, fn, ...)` runs a PDF render there, at most `Settings.renders_at_once` at a time per
process, the same limit the worker's letter activities use (activities/letters.py): renders are CPU-bound,
so a burst of previews queues here instead of slowing every render and growing the process.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
from fastapi import Request
from starlette.concurrency import run_in_threadpool

T = TypeVar("T")


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` in the thread pool (database, files)."""
    return await run_in_threadpool(fn, *args, **kwargs)


def _render_slots(request: Request) -> anyio.CapacityLimiter:
    state = request.app.state
    slots = getattr(state, "render_slots", None)
    if slots is None:  # made on the loop that uses it (a limiter belongs to its event loop)
        slots = state.render_slots = anyio.CapacityLimiter(state.settings.renders_at_once)
    return slots


async def rendering(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A PDF render in a worker thread, waiting (on the loop, holding no thread) for one of the process's slots."""
    return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs), limiter=_render_slots(request))
