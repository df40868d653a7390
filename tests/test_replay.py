"""Today's workflow code must replay yesterday's histories: a change that breaks this breaks running applications.

Recorded histories (tests/histories/*.json, from scripts/record_histories.py) are replayed with the
worker's own workflow classes, sandbox and data converter; any non-determinism fails the test. One
more history is recorded here, in the session, and replayed at once, so a determinism bug in code
written today fails before anyone re-records the files.
"""

from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

from worker import SANDBOX, STRICT_SANDBOX, workflow_classes
from core.codec import encrypted_data_converter
from tests.helpers import TEST_CODEC_KEYS, act, eventually, register, through_review
from contracts.intake import ApplicationInput

HISTORIES = Path(__file__).parent / "histories"
RECORDED = sorted(HISTORIES.glob("*.json"))


def replayer(workflows=None, runner=SANDBOX) -> Replayer:
    """What the worker runs (worker.build_worker): its workflows, sandbox and data converter.

    The converter encrypts (core/codec.py); the recorded files were made without it and still decode,
    because the codec passes payloads without its encoding through.
    """
    return Replayer(
        workflows=workflows or workflow_classes(), data_converter=encrypted_data_converter(TEST_CODEC_KEYS),
        workflow_runner=runner,
    )


def test_the_recorded_histories_are_there():
    stems = {p.stem for p in RECORDED}
    assert {"plain_disclosure_by_email", "supplement_requested_then_received", "consultation_objection_overridden",
            "consultation_objection_overridden.child", "extension_approved", "withdrawal"} <= stems


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
async def test_recorded_history_replays(path: Path):
    # The file stem stands in for the workflow id; the workflows never read their own id.
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    result = await replayer().replay_workflow(history)
    assert result.replay_failure is None


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
async def test_recorded_history_replays_in_the_strict_sandbox(path: Path):
    """The worker shares workflows/application.py with its sandbox (worker.py SHARED_WORKFLOW_MODULES: the
    sandbox no longer executes it, nor checks its calls); executed in the sandbox with its restrictions, a
    non-deterministic call (datetime.now(), random) on a recorded path fails here."""
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    result = await replayer(runner=STRICT_SANDBOX).replay_workflow(history)
    assert result.replay_failure is None


async def test_history_recorded_now_replays(api, client: Client):
    """One application through consultation, override, review, signature and e-mail delivery, replayed at once."""
    app_id = (await register(api, items=[{"description": "某化工企业2025年排污监测数据"},
                                         {"description": "2025年统计公报"}]))["application_id"]
    consulting = await act(api, app_id, "consultations", {
        "consultee": {"kind": "third-party", "name": "某化工有限公司", "email": "ehs@chem.example.cn"},
        "item_nos": [1], "by": "wang"})
    consultation_id = consulting["consultations"][0]["consultation_id"]
    answered = await api.post(f"/api/v1/consultations/{consultation_id}/answer",
                              json={"position": "objection", "reasons": "涉及商业秘密"}, headers=api.as_user("desk-chen"))
    assert answered.status_code == 200, answered.text
    await eventually(api, app_id, lambda s: s["status"] == "handling")
    await act(api, app_id, "override", {"consultation_id": consultation_id,
                                        "reason": "涉及公众健康，不公开会对公共利益造成重大影响", "by": "chief-liu"})
    await act(api, app_id, "extension-request", {"days": 5, "reason": "需要会商", "by": "wang"})
    await act(api, app_id, "extension-decision", {"approve": True, "by": "chief-liu"})
    await through_review(api, app_id, {1: ("disclosed", ""), 2: ("disclosed", "")})
    await act(api, app_id, "sign", {"by": "chief-liu"})
    await client.get_workflow_handle(app_id).result()

    for workflow_id in (app_id, consultation_id):
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        # Through JSON too, as the recorded files are: the round trip must not lose anything replay needs.
        for candidate in (history, WorkflowHistory.from_json(workflow_id, history.to_json())):
            result = await replayer().replay_workflow(candidate)
            assert result.replay_failure is None


@workflow.defn(name="DisclosureApplication")
class DriftedApplicationWorkflow:
    """Stands in for a careless change: sleeps first where the real workflow sends the acknowledgment."""

    @workflow.run
    async def run(self, inp: ApplicationInput) -> None:
        await workflow.sleep(1)


async def test_replay_catches_a_non_deterministic_change():
    """The check above has teeth: a workflow whose commands differ from the history is refused."""
    path = HISTORIES / "withdrawal.json"
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    drifted = replayer([DriftedApplicationWorkflow], UnsandboxedWorkflowRunner())
    result = await drifted.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None
    assert "nondetermin" in f"{type(result.replay_failure).__name__} {result.replay_failure}".lower()
