"""One workflow per released file's hash (issue 22): the pre-screen of its pages in the background.

Its id is `release-screen-<sha256>`, so the same bytes uploaded twice (to any item) are screened once;
each file has its own, so one bad or slow file never holds up the others.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from contracts.release import ScreenFileInput, ScreenFileResult

# Reading the store or the database may fail for a while; a file that cannot be read fails at once
# (non-retryable, recorded by the activity).
SCREEN_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1), maximum_attempts=5)


def screening_workflow_id(sha256: str) -> str:
    return f"release-screen-{sha256}"


@workflow.defn(name="ReleaseFileScreening")
class ReleaseFileScreeningWorkflow:
    @workflow.init
    def __init__(self, command: ScreenFileInput) -> None:
        self._command = command

    @workflow.run
    async def run(self, command: ScreenFileInput) -> ScreenFileResult:
        try:
            return await workflow.execute_activity(
                "screen_release_file",
                command,
                result_type=ScreenFileResult,
                start_to_close_timeout=timedelta(minutes=30),
                retry_policy=SCREEN_RETRY,
            )
        except ActivityError as error:
            return ScreenFileResult(sha256=command.sha256, state="failed", error=str(error.cause or error))
