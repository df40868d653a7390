"""Released files in the background (issue 22): one workflow per file hash screens its pages; one per
redaction makes and verifies the released copy.

The screening's id is `release-screen-<sha256>`, so the same bytes uploaded twice (to any item) are screened once;
each file has its own, so one bad or slow file never holds up the others.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, FailureError

with workflow.unsafe.imports_passed_through():
    from contracts.release import ReleaseChanged, RedactFileInput, RedactFileResult, ScreenFileInput, ScreenFileResult

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
            result = await workflow.execute_activity(
                "screen_release_file",
                command,
                result_type=ScreenFileResult,
                start_to_close_timeout=timedelta(minutes=30),
                retry_policy=SCREEN_RETRY,
            )
        except ActivityError as error:
            result = ScreenFileResult(sha256=command.sha256, state="failed", error=str(error.cause or error))
        applications = await workflow.execute_activity(
            "release_applications_of", command.sha256, result_type=list[str],
            start_to_close_timeout=timedelta(minutes=1), retry_policy=SCREEN_RETRY,
        )
        for application_id in applications:
            await tell_application(application_id, f"screened {command.sha256[:12]}")
        return result


def redaction_workflow_id(redaction_id: int) -> str:
    return f"release-redact-{redaction_id}"


@workflow.defn(name="ReleaseFileRedaction")
class ReleaseFileRedactionWorkflow:
    """A redacted copy made and verified in the background (OCR of every page twice: minutes for a long file)."""

    @workflow.init
    def __init__(self, command: RedactFileInput) -> None:
        self._command = command

    @workflow.run
    async def run(self, command: RedactFileInput) -> RedactFileResult:
        try:
            result = await workflow.execute_activity(
                "redact_release_file",
                command,
                result_type=RedactFileResult,
                start_to_close_timeout=timedelta(hours=1),
                retry_policy=SCREEN_RETRY,
            )
        except ActivityError:
            result = RedactFileResult(redaction_id=command.redaction_id, state="failed")
        if command.application_id:
            await tell_application(command.application_id, f"redaction {command.redaction_id}")
        return result


async def tell_application(application_id: str, what: str) -> None:
    """The application reads its files' state again (workflows/application_release.py); one that has ended (or
    that this test or tool never started) hears nothing."""
    try:
        await workflow.get_external_workflow_handle(application_id).signal("release_changed", ReleaseChanged(what=what))
    except FailureError as error:  # the workflow was not found (ended): nothing to tell
        workflow.logger.info("release_changed not delivered to %s: %s", application_id, error)
