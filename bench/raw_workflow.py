"""The peer of bench/settled.py: raw Temporal end to end, a trivial workflow with one activity.

`python -m bench.raw_workflow` (run by bench/settled.py with the application's DISCLOSURE_* environment)
serves BenchTrivialWorkflow on DISCLOSURE_TASK_QUEUE with the project's client (core.temporal.connect:
the same server, namespace and encrypting data converter as the application), until SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy

WORKFLOW_TYPE = "BenchTrivialWorkflow"


@activity.defn(name="bench_trivial_activity")
async def trivial_activity(name: str) -> str:
    return name


@workflow.defn(name=WORKFLOW_TYPE)
class BenchTrivialWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(trivial_activity, name, start_to_close_timeout=timedelta(seconds=30),
                                               retry_policy=RetryPolicy(maximum_attempts=3))


async def main() -> None:
    from temporalio.worker import Worker

    from core.config import get_settings
    from core.temporal import connect

    settings = get_settings()
    client = await connect(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Worker(client, task_queue=settings.task_queue, workflows=[BenchTrivialWorkflow],
                      activities=[trivial_activity]):
        print(f"raw worker polling {settings.task_queue}", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
