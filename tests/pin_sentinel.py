"""A workflow that only tells the time of its first task: the pinned runs' sentinel (tests/test_pinned_clock.py)."""

from datetime import datetime

from temporalio import workflow


@workflow.defn(sandboxed=False)
class FirstTaskTime:
    """Returns `workflow.now()` as read in its first workflow task (the init)."""

    @workflow.init
    def __init__(self) -> None:
        self.first = workflow.now()

    @workflow.run
    async def run(self) -> datetime:
        return self.first
