"""Staff actions reach the workflow as Updates; this turns Temporal's answers into HTTP ones.

A refused action (validator) becomes 409 with the clerk-facing reason; an unknown application 404;
an action on a finished workflow 409, saying how it ended. Nothing is half-applied: a refused update leaves no
trace in the workflow's history.

Under an Idempotency-Key (api/idempotency.py) the update's id is derived from the key: Temporal
answers a repeated update id with the first outcome, so a retry whose first answer was lost (a
crash, a failed database write) never applies the action twice.
"""

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import HTTPException, status
from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api import idempotency


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
        return await handle.execute_update(update, arg, result_type=result_type,
                                           id=idempotency.update_id(workflow_id, update))
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


async def start_once(client: Client, workflow: Any, arg: Any, *, id: str, task_queue: str) -> None:
    """Start a workflow whose id came from `idempotency.id_suffix`: under a key, an id already started
    is this key's earlier attempt (its answer was lost), so there is nothing more to start."""
    try:
        await client.start_workflow(workflow, arg, id=id, task_queue=task_queue,
                                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    except WorkflowAlreadyStartedError:
        if idempotency.current() is None:
            raise


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
