"""Checks a redacted copy before it may leave (Reg. 37; RULES §14 "removed for good").

1. Structure (pikepdf): no document info, XMP, annotations, form fields, embedded files, optional
   content, JavaScript or open actions; one revision (no incremental update).
2. Text: the copy's text layer (PDFium) and a fresh OCR of its pixels (tesseract) contain none of
   the withheld strings (compared without spaces; strings shorter than MIN_WITHHELD_CHARS are not
   searched for, they would match ordinary words).
3. Free Law Project's `x-ray` (bad redactions: boxes over text that is still there) finds nothing;
   it runs in a child process (it uses PyMuPDF, AGPL: kept out of our processes).
"""

import io
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

MIN_WITHHELD_CHARS = 4
_SPACES = re.compile(r"\s+")


@dataclass
class Verification:
    problems: list[str] = field(default_factory=list)
    xray: str = ""  # x-ray's verdict, as text

    @property
    def passed(self) -> bool:
        return not self.problems


def squeeze(text: str) -> str:
    return _SPACES.sub("", text)


def verify_redacted(pdf: bytes, withheld: list[str], *, ocr_pages: bool = True, require_xray: bool = True) -> Verification:
    from release.extract import ocr_page, pdf_pages

    result = Verification()
    result.problems += structure_problems(pdf)
    needles = sorted({squeeze(w) for w in withheld if len(squeeze(w)) >= MIN_WITHHELD_CHARS})
    layer = pdf_pages(pdf, ocr_scans=False)
    for page in layer:
        haystack = squeeze(page.text)
        for needle in needles:
            if needle in haystack:
                result.problems.append(f"第 {page.page} 页的文字层仍含被删除的内容（{_masked(needle)}）")
    if ocr_pages and needles:
        import pypdfium2

        from release import ocr

        document = pypdfium2.PdfDocument(pdf)
        try:
            pages = ocr.bounded_map(
                ocr_page,
                ((index + 1, document[index].render(scale=ocr.OCR_DPI / 72).to_pil()) for index in range(len(document))),
            )
        finally:
            document.close()
        for page in pages:
            haystack = squeeze(page.text)
            for needle in needles:
                if needle in haystack:
                    result.problems.append(f"第 {page.page} 页的图像经文字识别仍可读出被删除的内容（{_masked(needle)}）")
    found, verdict = run_xray(pdf)
    result.xray = verdict
    if found is None:
        if require_xray:
            result.problems.append("未能运行不当遮盖检测工具 x-ray：" + verdict)
    elif found:
        result.problems.append("x-ray 检测到不当遮盖（遮盖框下仍有文字）：" + verdict)
    return result


def structure_problems(pdf: bytes) -> list[str]:
    import pikepdf

    problems = []
    if pdf.count(b"%%EOF") > 1:
        problems.append("文件含有增量修订（早期版本可能残留）")
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        info = doc.trailer.get("/Info")
        if info is not None and len(info.keys()):
            problems.append("文件仍含文档信息（作者、标题等元数据）")
        root = doc.Root
        for key, what in (
            ("/Metadata", "XMP 元数据"),
            ("/AcroForm", "表单域"),
            ("/OCProperties", "可选内容（图层）"),
            ("/OpenAction", "打开动作"),
            ("/AA", "自动动作"),
            ("/Names", "名称树（可能含附件或脚本）"),
            ("/Outlines", "书签"),
            ("/PieceInfo", "私有应用数据"),
        ):
            if key in root:
                problems.append(f"文件仍含{what}")
        for number, page in enumerate(doc.pages, start=1):
            if "/Annots" in page.obj:
                problems.append(f"第 {number} 页仍含批注")
    return problems


def run_xray(pdf: bytes) -> tuple[bool | None, str]:
    """(found anything, x-ray's output); (None, why) when x-ray cannot run."""
    with tempfile.TemporaryDirectory(prefix="xray-") as tmp:
        path = os.path.join(tmp, "released.pdf")
        with open(path, "wb") as out:
            out.write(pdf)
        try:
            done = subprocess.run([sys.executable, "-m", "xray", path], capture_output=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as error:
            return None, str(error)
    if done.returncode != 0:
        return None, (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["x-ray 未安装"])[-1]
    output = done.stdout.decode("utf-8", "replace").strip()
    try:
        return bool(json.loads(output)), output
    except json.JSONDecodeError:
        return None, output[-200:]


def _masked(needle: str) -> str:
    return needle[:2] + "*" * max(0, len(needle) - 4) + needle[-2:] if len(needle) > 4 else needle[:1] + "***"
