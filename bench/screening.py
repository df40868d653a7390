"""Released files (issue 22): the pre-screen's speed on text pages and scans, and a 100-page redaction.

Makes its own pages (tests/release_samples.py): a text PDF (--text-pages, about 35 lines each with ID
numbers, phones and credit codes among ordinary text) and scanned A4 pages at 200 dpi (--scan-pages,
drawn with the CJK font, no text layer). Prints:
- ms of CPU per text page: extraction (PDFium text layer, every character's box) + the pre-screen
  (target <= 20 ms);
- seconds per scanned page: our OCR path (release/extract.ocr_page: PNG, tesseract chi_sim TSV, words
  placed) against bare tesseract on the same PNGs with the same arguments, runs interleaved, in the
  same run; our throughput as a ratio of the bare engine's (target >= 0.8) and s per page (target <= 2 s);
- the redaction of a --redact-pages PDF: rebuilt from pixels without and with the OCR text layer,
  then the verification (text layer, re-OCR, structure, x-ray).
Last lines: `RESULT ...`.

    .venv/bin/python bench/screening.py [--text-pages 200] [--scan-pages 6] [--redact-pages 100]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import command_line, load, machine  # noqa: E402
from release import ocr  # noqa: E402
from release.detect import screen_pages  # noqa: E402
from release.extract import extract, ocr_page  # noqa: E402
from release.redact import Area, redact_pdf  # noqa: E402
from release.verify import verify_redacted  # noqa: E402
from tests.release_samples import PHONE, credit_code, id_number, scan_image, text_pdf  # noqa: E402

TODAY = date(2026, 12, 7)
FILLER = "根据《中华人民共和国政府信息公开条例》第二十七条的规定，现将有关情况说明如下"


def text_page(n: int) -> list[str]:
    lines = []
    for i in range(35):
        k = n * 35 + i
        if i % 9 == 3:
            lines.append(f"{k}. 当事人身份证号 {id_number(f'3501021980{(k % 12) + 1:02d}{(k % 28) + 1:02d}12')}")
        elif i % 9 == 6:
            lines.append(f"{k}. 联系电话 139{k % 100000000:08d}，单位代码 {credit_code(f'913501{k % 100:02d}MA{k % 100:02d}XKQ15')}")
        else:
            lines.append(f"{k}. {FILLER[: 20 + (k % 17)]}")
    return lines


def scan_lines(n: int) -> list[str]:
    return [f"第{n * 30 + i}条 {FILLER[: 14 + (i % 9)]}" if i % 5 else f"联系人电话：{PHONE}，办公地点：某某路{i}号"
            for i in range(24)]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_text(pages: int) -> float:
    pdf = text_pdf([text_page(n) for n in range(pages)])
    extract("pdf", pdf, ocr_scans=False)  # warm-up (PDFium, the fonts)
    cpu = time.process_time()
    wall = time.perf_counter()
    extracted = extract("pdf", pdf, ocr_scans=False)
    findings = screen_pages(extracted.pages, today=TODAY)
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    chars = sum(len(p.chars) for p in extracted.pages)
    per_page = cpu * 1000 / pages
    print(f"text: {pages} pages, {chars} characters, {len(findings)} findings: {cpu * 1000:.0f} ms CPU "
          f"({wall * 1000:.0f} ms wall), {per_page:.2f} ms CPU per page")
    return per_page


def bench_scans(pages: int) -> tuple[float, float]:
    images = [scan_image(scan_lines(n), font_px=33) for n in range(pages)]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    ours = bare = ours_cpu = bare_cpu = 0.0
    found = 0
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        paths = []
        for n, image in enumerate(images):
            path = os.path.join(tmp, f"page{n}.png")
            image.save(path, dpi=(ocr.OCR_DPI, ocr.OCR_DPI))
            paths.append(path)
        for n, (image, path) in enumerate(zip(images, paths)):
            start, cpu = time.perf_counter(), time.process_time() + children_cpu()
            subprocess.run([ocr.tesseract_path(), path, "stdout", "-l", ocr.LANGUAGES, "--psm", ocr.PAGE_SEGMENTATION,
                            "tsv"], capture_output=True, env=env, check=True)
            bare += time.perf_counter() - start
            bare_cpu += time.process_time() + children_cpu() - cpu
            start, cpu = time.perf_counter(), time.process_time() + children_cpu()
            page = ocr_page(n + 1, image)
            found += sum(1 for f in screen_pages([page], today=TODAY) if f.kind == "phone")
            ours += time.perf_counter() - start
            ours_cpu += time.process_time() + children_cpu() - cpu
    expected = sum(1 for n in range(pages) for line in scan_lines(n) if PHONE in line)
    ratio = bare / ours
    print(f"scans: {pages} pages at {ocr.OCR_DPI} dpi: ours {ours / pages:.2f} s per page (OCR + placing + screen), "
          f"bare tesseract {bare / pages:.2f} s per page; throughput ratio {ratio:.2f}; phones found {found} of {expected}; "
          f"CPU per page (ours with tesseract's / bare): {ours_cpu / pages:.2f} / {bare_cpu / pages:.2f} s, "
          f"ratio {bare_cpu / ours_cpu:.2f}")
    return ours / pages, ratio


def bench_redaction(pages: int) -> dict[str, float]:
    pdf = text_pdf([text_page(n) for n in range(pages)])
    extracted = extract("pdf", pdf, ocr_scans=False)
    findings = [f for f in screen_pages(extracted.pages, today=TODAY) if f.kind in ("id-card", "phone")]
    areas = [Area(f.page, f.place, "条例第十五条") for f in findings if f.place]
    withheld = [p.text[f.start:f.end] for f in findings for p in extracted.pages if p.page == f.page]
    figures = {}
    for text_layer in (False, True):
        start, children = time.perf_counter(), children_cpu()
        released = redact_pdf(pdf, areas, text_layer=text_layer)
        figures["with OCR layer" if text_layer else "pixels only"] = time.perf_counter() - start
        print(f"redaction of {pages} pages, {len(areas)} areas, {'with' if text_layer else 'without'} the OCR text layer: "
              f"{time.perf_counter() - start:.1f} s wall ({children_cpu() - children:.1f} s CPU in tesseract), "
              f"{len(released) / 2**20:.1f} MiB")
    start = time.perf_counter()
    check = verify_redacted(released, withheld)
    figures["verification"] = time.perf_counter() - start
    print(f"verification (text layer, re-OCR of {pages} pages, structure, x-ray): {figures['verification']:.1f} s, "
          f"passed={check.passed} {check.problems[:3]}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text-pages", type=int, default=200)
    parser.add_argument("--scan-pages", type=int, default=6)
    parser.add_argument("--redact-pages", type=int, default=100)
    args = parser.parse_args()
    print(command_line())
    print(machine())
    per_text_page = bench_text(args.text_pages)
    per_scan, ratio = bench_scans(args.scan_pages)
    redaction = bench_redaction(args.redact_pages) if args.redact_pages else {}
    print(load())
    print(f"RESULT text page {per_text_page:.2f} ms CPU (target <= 20)")
    print(f"RESULT scanned page {per_scan:.2f} s (target <= 2); throughput vs bare tesseract {ratio:.2f} (target >= 0.8)")
    for what, seconds in redaction.items():
        print(f"RESULT redaction of {args.redact_pages} pages, {what}: {seconds:.1f} s")


if __name__ == "__main__":
    main()
