"""Staff actions reach the workflow as Updates; this turns Temporal's answers into HTTP ones.

A refused action (validator) becomes 409 with the clerk-facing reason; an unknown application 404;
an action on a finished workflow 409, saying how it ended. Nothing is half-applied: a refused update leaves no
trace in the workflow's history.
"""

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import HTTPException, status
from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode


async def _exists(handle: WorkflowHandle) -> bool:
    try:
        await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def run_update(
    client: Client, workflow_id: str, update: str, arg: Any, result_type: type, *, what: str,
    ended: Callable[[], str | Awaitable[str]],
) -> Any:
    """Run a staff action; `ended` words the refusal when the workflow has already finished (a coroutine when it
    reads the database: off the event loop, api/offloop.py)."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.execute_update(update, arg, result_type=result_type)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type == "ActionNotAllowed":
            raise HTTPException(status.HTTP_409_CONFLICT, cause.message) from None
        raise HTTPException(status.HTTP_409_CONFLICT, "此操作未能完成，请刷新后重试") from None
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        if not await _exists(handle):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有编号为 {workflow_id} 的{what}") from None
        message = ended()
        if inspect.isawaitable(message):
            message = await message
        raise HTTPException(status.HTTP_409_CONFLICT, message) from None


async def run_query(client: Client, workflow_id: str, query: str, arg: Any, result_type: type, *, what: str) -> Any:
    handle = client.get_workflow_handle(workflow_id)
    try:
        if arg is None:
            return await handle.query(query, result_type=result_type)
        return await handle.query(query, arg, result_type=result_type)
    except (RPCError, WorkflowQueryFailedError) as err:
        if isinstance(err, RPCError) and err.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有编号为 {workflow_id} 的{what}") from None
        raise
