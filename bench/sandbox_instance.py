"""(issue 15 point 3) What one cached application costs a worker before it holds any state of its own.

A worker keeps up to `DISCLOSURE_WORKER_MAX_CACHED_WORKFLOWS` workflow instances. Each instance lives in
its own copy of the Temporal SDK's sandbox, which imports the workflow's module (and every module not
passed through) afresh. This creates `--instances` sandboxed instances of the application workflow the
way the worker does (the SDK's `create_instance`, with the SDK's own validation info, no history) in one
process and prints the resident memory each adds, and with `--trace` where it goes (tracemalloc, by file).

    .venv/bin/python bench/sandbox_instance.py [--instances 200] [--trace]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_parser, command_line  # noqa: E402


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


async def main(args: argparse.Namespace) -> int:
    import temporalio.converter
    import temporalio.workflow
    from temporalio.api.common.v1.message_pb2 import Payloads
    from temporalio.api.failure.v1.message_pb2 import Failure
    from temporalio.worker._workflow_instance import WorkflowInstanceDetails
    from temporalio.worker.workflow_sandbox._runner import _fake_info

    from worker import SANDBOX, share_workflow_code
    from workflows.application import DisclosureApplicationWorkflow

    if args.shared_code:
        share_workflow_code()  # what build_worker does

    defn = temporalio.workflow._Definition.must_from_class(DisclosureApplicationWorkflow)
    converter = temporalio.converter.DataConverter.default

    def make():
        return SANDBOX.create_instance(WorkflowInstanceDetails(
            payload_converter_factory=converter._new_payload_converter,
            failure_converter_class=converter.failure_converter_class, interceptor_classes=[], defn=defn,
            info=_fake_info, randomness_seed=-1, extern_functions={}, disable_eager_activity_execution=False,
            worker_level_failure_exception_types=[], patch_activation_callback=None,
            last_completion_result=Payloads(), last_failure=Failure()))

    keep = [make() for _ in range(5)]  # warm: the passed-through modules are imported once
    fresh = sorted(name for name, module in keep[0].importer.new_modules.items() if sys.modules.get(name) is not module)
    gc.collect()
    before = rss_mib()
    if args.trace:
        tracemalloc.start()
        snapshot = tracemalloc.take_snapshot()
    keep += [make() for _ in range(args.instances)]
    gc.collect()
    after = rss_mib()
    print(f"RESULT sandbox instance: {(after - before) * 1024 / args.instances:.0f} KiB of RSS per application "
          f"workflow instance ({args.instances} instances, process RSS {after:.0f} MiB, "
          f"shared workflow code: {'yes' if args.shared_code else 'no'})")
    print(f"  modules imported afresh (or wrapped) in each instance: {', '.join(fresh)}")
    if args.trace:
        for stat in tracemalloc.take_snapshot().compare_to(snapshot, "filename")[:10]:
            print(f"  {stat.traceback[0].filename}: {stat.size_diff / args.instances / 1024:.1f} KiB per instance")
    print(f"  reproduce: {command_line()}")
    return 0


if __name__ == "__main__":
    parser = bench_parser(__doc__)
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--trace", action="store_true", help="where the memory goes (tracemalloc, slower)")
    parser.add_argument("--no-shared-code", dest="shared_code", action="store_false",
                        help="without worker.share_workflow_code (every instance unmarshals the module again)")
    sys.exit(asyncio.run(main(parser.parse_args())))
