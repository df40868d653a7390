"""How every process reaches Temporal and what a worker runs: one place, so API, worker and tests agree."""

from collections.abc import Sequence

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from core.config import Settings


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace, data_converter=pydantic_data_converter
    )


def workflow_classes() -> Sequence[type]:
    from workflows.application import DisclosureApplicationWorkflow
    from workflows.calendar_broadcast import CalendarBroadcastWorkflow
    from workflows.consultation import ConsultationWorkflow

    return [DisclosureApplicationWorkflow, ConsultationWorkflow, CalendarBroadcastWorkflow]


def build_worker(client: Client, settings: Settings, engine) -> Worker:
    from activities import DisclosureActivities, all_activities

    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=workflow_classes(),
        activities=all_activities(DisclosureActivities(engine, settings)),
        workflow_runner=SANDBOX,
    )


# Pydantic's e-mail validation runs when workflow messages are built; its modules are pure and
# stateless, so they are shared with the sandbox instead of re-imported for every workflow.
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("email_validator", "idna")
)
