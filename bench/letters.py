"""Letters: CPU per letter PDF in one warm process (issue 15, target <= 20 ms).

Renders a realistic reply letter (five items with different outcomes, reasons, a referral; two pages)
--letters times in this process after --warmup renders, each with its own application number and
文号 so no two letters are the same, and prints the CPU time per letter (time.process_time: every
thread of the process, the typesetter's included), the wall time, the PDF size and the RSS. Then the
same with two threads rendering at once (the worker renders at most two at once). With --old-rev (and
fpdf2 installed) it also renders the same letter with letters/documents.py of that revision, the fpdf2
path, as the peer. Last line: `RESULT letters <ms> ms CPU per letter`.

    .venv/bin/python bench/letters.py [--letters 500] [--old-rev c5a1daf] [--old-letters 20]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
import types
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, bench_parser, command_line, load, machine, mib, rss_bytes  # noqa: E402

OLD_REV = "c5a1daf"  # the last revision whose letters/documents.py renders with fpdf2


def reply_body(i: int) -> tuple[str, str]:
    from contracts.models import ComposeLetterInput, ReplyItem
    from letters.compose import compose_letter
    from outcomes import OutcomeCode

    items = [
        ReplyItem(item_no=1, description=f"某企业{2020 + i % 6}年排污许可证及年度执行报告", outcome=OutcomeCode.DISCLOSED),
        ReplyItem(item_no=2, description="2025年第三季度统计执法检查记录（含处罚决定书）",
                  outcome=OutcomeCode.PARTLY_DISCLOSED,
                  reasons="其中涉及个人身份证号码、联系电话等个人隐私的内容已作区分处理，其余部分予以公开"),
        ReplyItem(item_no=3, description="某企业向本机关报送的原始统计调查资料", outcome=OutcomeCode.WITHHELD_THIRD_PARTY,
                  reasons="该信息涉及第三方商业秘密，经书面征求第三方意见，第三方不同意公开，"
                          "且本机关认为不公开不会对公共利益造成重大影响"),
        ReplyItem(item_no=4, description="某区农业普查原始登记表", outcome=OutcomeCode.UNAVAILABLE_NOT_HELD,
                  reasons="经检索，本机关未制作或者获取该政府信息",
                  referral="某市某区统计局，地址：某市某区人民路1号，电话：0591-87000000"),
        ReplyItem(item_no=5, description="局领导班子内部讨论记录", outcome=OutcomeCode.WITHHELD_PROCESS_INFO,
                  reasons="属于行政机关在履行行政管理职能过程中形成的讨论记录、过程稿"),
    ]
    application_id = f"GK-2026-{i:06d}"
    letter = compose_letter(ComposeLetterInput(
        application_id=application_id, kind="reply", agency_name="某市统计局", recipient_name="张三",
        letter_date=date(2026, 3, 5), received_on=date(2026, 3, 2), items=items))
    return letter.body, f"某统依公〔2026〕第{i}号"


def measure(render, n: int, start: int = 0) -> tuple[float, float, int]:
    bodies = [reply_body(start + i) for i in range(n)]  # composed beforehand: the figure is the render alone
    size = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for body, number in bodies:
        size = len(render(body, number=number, issued_on=date(2026, 3, 5)))
    return (time.process_time() - cpu0) / n, (time.perf_counter() - wall0) / n, size


def measure_threads(render, n: int, threads: int, start: int) -> tuple[float, float]:
    bodies = [reply_body(start + i) for i in range(n * threads)]

    def run(part):
        for body, number in part:
            render(body, number=number, issued_on=date(2026, 3, 5))

    workers = [threading.Thread(target=run, args=(bodies[k::threads],)) for k in range(threads)]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return (time.process_time() - cpu0) / len(bodies), (time.perf_counter() - wall0) / len(bodies)


def old_renderer(rev: str):
    """letters/documents.py of `rev` as a module (the fpdf2 path), or the reason it cannot run."""
    try:
        import fpdf  # noqa: F401
    except ImportError:
        return "fpdf2 is not installed (.venv/bin/pip install fpdf2)"
    source = subprocess.run(["git", "show", f"{rev}:letters/documents.py"], cwd=ROOT, capture_output=True, text=True)
    if source.returncode != 0:
        return f"git show {rev}:letters/documents.py failed: {source.stderr.strip()}"
    if "fpdf" not in source.stdout:
        return f"letters/documents.py of {rev} does not use fpdf2"
    # The shim it imported from (activities/models.py, since removed) re-exported contracts.models.
    import importlib

    sys.modules.setdefault("activities.models", importlib.import_module("contracts.models"))
    module = types.ModuleType("old_documents")
    exec(compile(source.stdout, f"{rev}:letters/documents.py", "exec"), module.__dict__)
    return module.render_letter_pdf


def main(args: argparse.Namespace) -> int:
    from letters.documents import pdf_text, render_letter_pdf

    print(machine())
    rss0 = rss_bytes(os.getpid())
    cpu0 = time.process_time()
    body, number = reply_body(999_999)
    first = render_letter_pdf(body, number=number, issued_on=date(2026, 3, 5))
    print(f"first letter in this process (font indexed, template compiled): {(time.process_time() - cpu0) * 1000:.1f} ms CPU")
    text = "".join(pdf_text(first).split())
    assert "政府信息公开申请答复告知书" in text and "第三十六条第（三）项" in text and number in text, "wrong text"
    measure(render_letter_pdf, args.warmup, start=1)
    cpu, wall, size = measure(render_letter_pdf, args.letters, start=10_000)
    print(f"new path (letters/documents.py as it is here): {args.letters} letters after {args.warmup} warm-up: {cpu * 1000:.2f} ms CPU, "
          f"{wall * 1000:.2f} ms wall per letter; PDF {size / 1024:.0f} KiB; RSS {mib(rss0)} before, "
          f"{mib(rss_bytes(os.getpid()))} after")
    tcpu, twall = measure_threads(render_letter_pdf, args.letters // 2, 2, start=20_000)
    print(f"new path, 2 threads at once: {tcpu * 1000:.2f} ms CPU, {twall * 1000:.2f} ms wall per letter")

    if args.old_rev:
        old = old_renderer(args.old_rev)
        if isinstance(old, str):
            print(f"old path ({args.old_rev}): skipped, {old}")
        else:
            measure(old, 1, start=30_000)
            ocpu, owall, osize = measure(old, args.old_letters, start=30_001)
            print(f"old path (fpdf2, letters/documents.py of {args.old_rev}): {args.old_letters} letters: "
                  f"{ocpu * 1000:.1f} ms CPU, {owall * 1000:.1f} ms wall per letter; PDF {osize / 1024:.0f} KiB; "
                  f"ratio old/new CPU = {ocpu / cpu:.0f}x")
    print(f"target <= 20 ms CPU per letter: {'MET' if cpu * 1000 <= 20 else 'NOT MET'}; {load()}")
    print(f"reproduce: {command_line()}")
    print(f"RESULT letters {cpu * 1000:.2f} ms CPU per letter")
    return 0


if __name__ == "__main__":
    parser = bench_parser(__doc__)
    parser.add_argument("--letters", type=int, default=500, help="letters measured (default 500)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--old-rev", default=OLD_REV, help="revision of the fpdf2 path to measure as the peer "
                        "('' to skip)")
    parser.add_argument("--old-letters", type=int, default=20)
    sys.exit(main(parser.parse_args()))
