"""The released files (issue 22): the application holds their state for the signature's validator, and seals
what leaves at the signature (RULES §14: "The exact bytes sent are sealed (hash) with the reply").

A mixin of the application workflow (workflows/application.py). The validator does no I/O, so the workflow holds
what it needs: whoever changes a file (the API on upload, acceptance or a redaction asked; the screening and
redaction workflows when they end) signals `release_changed`, and the workflow reads the files' state once more (an
activity), coalescing signals that arrive while it reads; until that read is back the signature is refused (the
reason says so). The signature's handler then seals under the lock (`seal_release`, idempotent per application),
which reads the state again in the same transaction that writes the seal: a change whose signal was lost is caught
there too, and the update is refused with the same reason.
"""

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from contracts.release import (
        ReleaseChanged,
        ReleaseStatusInput,
        ReleaseStatusResult,
        SealReleaseInput,
        SealReleaseResult,
    )
    from application.rules import disclosed_items
    from workflows.delivery import ACTIVITY_TIMEOUT, PERSIST_RETRY


class ReleaseHandlers:
    @workflow.signal
    async def release_changed(self, change: ReleaseChanged) -> None:
        self._release_stale = True
        self._s.release_reading = True
        if self._release_reader:
            return  # the read under way goes round once more
        self._release_reader = True
        try:
            while self._release_stale:
                self._release_stale = False
                try:
                    result = await workflow.execute_activity(
                        "release_status", ReleaseStatusInput(application_id=self._s.inp.application_id),
                        result_type=ReleaseStatusResult, start_to_close_timeout=ACTIVITY_TIMEOUT,
                        retry_policy=PERSIST_RETRY,
                    )
                except ActivityError as error:
                    # Only an error no retry mends ends the tries: never the workflow's failure (a signal handler's
                    # error would fail it). The seal reads the files again under the signature anyway.
                    workflow.logger.warning("release_status failed: %s", error.cause or error)
                    continue
                self._s.release_files = result.files
        finally:
            self._release_reader = False
        self._s.release_reading = False

    async def _seal_release(self, signed_by: str) -> SealReleaseResult:
        """At the signature, under the lock: the files of the disclosed items sealed, or the refusal (nothing
        written). The caller refuses the update with `refusal`."""
        sealed = await workflow.execute_activity(
            "seal_release",
            SealReleaseInput(application_id=self._s.inp.application_id, items=sorted(disclosed_items(self._s)),
                             signed_by=signed_by, delivery_method=self._s.inp.delivery_method),
            result_type=SealReleaseResult, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PERSIST_RETRY,
        )
        self._s.release_files = sealed.files
        if sealed.refusal is None:
            self._s.release_seal = sealed
        return sealed
