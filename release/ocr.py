"""OCR with Debian's tesseract (tesseract-ocr + tesseract-ocr-chi-sim, installed by the Makefile).

Run as a child process on a PNG of the page; its TSV output gives each word with its box. Nothing
is downloaded: the Chinese model is the Debian package's file.
"""

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from PIL import Image

LANGUAGES = "chi_sim"
# PDF pages without a text layer are rendered at this resolution for OCR: a 10.5 pt character is about
# 29 px high, enough for tesseract's LSTM; 300 dpi took about twice as long for the same text
# (bench/screening.py).
OCR_DPI = 200
# Page segmentation 4 (one column of text of variable sizes), not the default 3 (automatic): with 3, lines
# alike in layout (a form, a list, "……，联系电话139……" line after line) were cut at the full-width comma into two
# "columns" and the right one read as noise: the phone numbers were lost. 4 reads every line whole; a
# two-column page comes out with its columns' lines interleaved, which the detectors do not mind.
PAGE_SEGMENTATION = "4"


class OcrUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class OcrWord:
    text: str
    left: int
    top: int
    width: int
    height: int
    line: tuple[int, int, int]  # block, paragraph, line
    confidence: float


def parallel_pages() -> int:
    """Pages OCRed at once (each tesseract on one thread): DISCLOSURE_OCR_PARALLEL, else the machine's cores."""
    configured = os.environ.get("DISCLOSURE_OCR_PARALLEL", "").strip()
    return max(1, int(configured)) if configured.isdigit() else max(1, os.cpu_count() or 1)


def bounded_map(fn, items, *, workers: int | None = None):
    """fn over items in `workers` threads, results in order; at most 2 × workers items are in flight, so a
    long document's page images are never all in memory. `items` is consumed in this thread (PDFium, which
    renders them, must not be called from two threads at once)."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    workers = workers or parallel_pages()
    results = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(fn, *item))
            if len(pending) >= 2 * workers:
                results.append(pending.popleft().result())
        results.extend(future.result() for future in pending)
    return results


def tesseract_path() -> str:
    path = shutil.which("tesseract")
    if not path:
        raise OcrUnavailable("tesseract is not installed (make system-packages installs tesseract-ocr and tesseract-ocr-chi-sim)")
    return path


def _env() -> dict[str, str]:
    # One thread per OCR: the machine's cores go to several pages (and several engineers) at once.
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


def ocr_words(image: Image.Image, *, languages: str = LANGUAGES) -> list[OcrWord]:
    with tempfile.TemporaryDirectory(prefix="ocr-") as tmp:
        path = os.path.join(tmp, "page.png")
        image.save(path, dpi=(OCR_DPI, OCR_DPI))
        result = subprocess.run(
            [tesseract_path(), path, "stdout", "-l", languages, "--psm", PAGE_SEGMENTATION, "tsv"],
            capture_output=True,
            env=_env(),
            check=True,
            timeout=300,
        )
    return parse_tsv(result.stdout.decode("utf-8", "replace"))


def ocr_pdf_page(image: Image.Image, *, languages: str = LANGUAGES) -> bytes:
    """A one-page PDF of the image with tesseract's invisible text layer (the released copy's search)."""
    with tempfile.TemporaryDirectory(prefix="ocr-") as tmp:
        path = os.path.join(tmp, "page.png")
        image.save(path, dpi=(OCR_DPI, OCR_DPI))
        subprocess.run(
            [tesseract_path(), path, os.path.join(tmp, "out"), "-l", languages, "--psm", PAGE_SEGMENTATION, "pdf"],
            capture_output=True,
            env=_env(),
            check=True,
            timeout=300,
        )
        with open(os.path.join(tmp, "out.pdf"), "rb") as out:
            return out.read()


def parse_tsv(tsv: str) -> list[OcrWord]:
    words = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        words.append(
            OcrWord(
                text=cols[11].strip(),
                left=int(cols[6]),
                top=int(cols[7]),
                width=int(cols[8]),
                height=int(cols[9]),
                line=(int(cols[2]), int(cols[3]), int(cols[4])),
                confidence=float(cols[10]),
            )
        )
    return words


def _is_cjk(char: str) -> bool:
    return "\u3000" <= char <= "\u9fff" or "\uff00" <= char <= "\uffef"


def joiner(previous: str, following: str) -> str:
    """How two OCR words of a line join: Chinese runs without a space (tesseract splits them), others with one."""
    if not previous or not following:
        return ""
    return "" if _is_cjk(previous[-1]) or _is_cjk(following[0]) else " "
