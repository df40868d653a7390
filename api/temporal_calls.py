"""Staff actions reach the workflow as Updates; this turns Temporal's answers into HTTP ones.

A refused action (validator) becomes 409 with the clerk-facing reason; an unknown application 404;
an application whose workflow has ended 409. Nothing is half-applied: a refused update leaves no
trace in the workflow's history.
"""

from typing import Any

from fastapi import HTTPException, status
from sqlmodel import Session
from temporalio.client import Client, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from db.models import Application


def _not_found_or_ended(session: Session, application_id: str, what: str) -> HTTPException:
    if session.get(Application, application_id) is None:
        return HTTPException(status.HTTP_404_NOT_FOUND, f"没有编号为 {application_id} 的{what}")
    return HTTPException(status.HTTP_409_CONFLICT, f"{application_id} 已办结，不能再办理此事项")


async def run_update(
    client: Client, session: Session, workflow_id: str, update: str, arg: Any, result_type: type, *, what: str = "申请"
) -> Any:
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.execute_update(update, arg, result_type=result_type)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type == "ActionNotAllowed":
            raise HTTPException(status.HTTP_409_CONFLICT, cause.message) from None
        raise HTTPException(status.HTTP_409_CONFLICT, "此操作未能完成，请刷新后重试") from None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise _not_found_or_ended(session, workflow_id.split(".consult-")[0], what) from None
        raise


async def run_query(client: Client, workflow_id: str, query: str, arg: Any, result_type: type, *, what: str = "申请") -> Any:
    handle = client.get_workflow_handle(workflow_id)
    try:
        if arg is None:
            return await handle.query(query, result_type=result_type)
        return await handle.query(query, arg, result_type=result_type)
    except (RPCError, WorkflowQueryFailedError) as err:
        if isinstance(err, RPCError) and err.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有编号为 {workflow_id} 的{what}") from None
        raise
