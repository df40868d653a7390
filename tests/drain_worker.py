"""A test-only worker process for tests/test_observability.py: one slow activity, run through worker.serve.

Run as `python -c "import tests.drain_worker as m; m.main()"` from the repository root, with
DISCLOSURE_TEMPORAL_ADDRESS, DISCLOSURE_TASK_QUEUE, DISCLOSURE_WORKER_GRACEFUL_SHUTDOWN_SECONDS and
DRAIN_MARKER_DIR in the environment. The activity writes `started` when it begins and `finished`
when it ends (after DRAIN_ACTIVITY_SECONDS), so the test can send SIGTERM in between.
"""

import asyncio
import os
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.worker import UnsandboxedWorkflowRunner, Worker


@activity.defn(name="drain_slow_step")
async def slow_step(seconds: float) -> str:
    markers = Path(os.environ["DRAIN_MARKER_DIR"])
    (markers / "started").write_text(activity.info().workflow_id)
    await asyncio.sleep(seconds)
    (markers / "finished").write_text(activity.info().workflow_id)
    return "done"


@workflow.defn(name="DrainTestWorkflow")
class DrainTestWorkflow:
    @workflow.run
    async def run(self, seconds: float) -> str:
        return await workflow.execute_activity(
            slow_step, seconds, start_to_close_timeout=timedelta(seconds=60),
        )


async def _main() -> None:
    import worker as worker_process
    from core.config import Settings
    from core.observability import configure_logging
    from core.temporal import connect

    settings = Settings()
    configure_logging(settings.log_level)
    client = await connect(settings, worker_process=True)
    drain_worker = Worker(
        client, task_queue=settings.task_queue, workflows=[DrainTestWorkflow], activities=[slow_step],
        workflow_runner=UnsandboxedWorkflowRunner(),
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_graceful_shutdown_seconds),
    )
    await worker_process.serve(drain_worker, "worker polling task queue %s", settings.task_queue)


def main() -> None:
    import worker as worker_process

    worker_process.run_then_exit(_main())
