"""Intake checks for a file to be released (RULES §14; issue 22 "Bad input").

The type is sniffed from the bytes, never taken from the name; the name's extension must agree
with what the bytes are (a file whose type lies about itself is refused). Every refusal is an
`IntakeError` whose message a clerk understands; nothing here stores anything.
"""

import io
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
# Pillow's decompression-bomb guard: above this many pixels an image is refused (Pillow's own default
# warns at 89 Mpx and raises at twice that; we refuse at the warning).
MAX_IMAGE_PIXELS = 89_478_485
# A DOCX/XLSX is a zip: its parts may not unpack to more than this (a zip bomb).
MAX_UNPACKED_BYTES = 300 * 1024 * 1024
MAX_PAGES = 2000

KIND_LABELS = {
    "pdf": "PDF 文档",
    "png": "PNG 图像",
    "jpeg": "JPEG 图像",
    "tiff": "TIFF 图像",
    "docx": "Word 文档（DOCX）",
    "xlsx": "Excel 表格（XLSX）",
    "csv": "CSV 表格",
}
EXTENSIONS = {
    ".pdf": "pdf",
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".docx": "docx",
    ".xlsx": "xlsx",
    ".csv": "csv",
}
IMAGE_KINDS = ("png", "jpeg", "tiff")


class IntakeError(ValueError):
    """A file refused at intake; str(error) is the Chinese message for the clerk."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Accepted:
    kind: str  # one of KIND_LABELS
    media_type: str
    pages: int | None  # PDF pages; None for other kinds


MEDIA_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "tiff": "image/tiff",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}


def check_file(name: str, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Accepted:
    """Accept the file or raise IntakeError with the reason in Chinese."""
    if not data:
        raise IntakeError("empty", f"文件“{name}”是空文件（0 字节），请重新选择文件。")
    if len(data) > max_bytes:
        raise IntakeError(
            "too-large",
            f"文件“{name}”大小为 {_mb(len(data))}，超过单个文件 {_mb(max_bytes)} 的上限；请拆分后分别上传。",
        )
    extension = PurePosixPath(name.replace("\\", "/")).suffix.lower()
    claimed = EXTENSIONS.get(extension)
    if extension == ".docm" or extension == ".xlsm":
        raise IntakeError("macros", f"文件“{name}”是含宏的 Office 文档，不能公开；请另存为不含宏的 .docx/.xlsx 后上传。")
    if claimed is None:
        raise IntakeError(
            "unsupported-name",
            f"文件“{name}”的类型不受支持；可上传 PDF、PNG、JPEG、TIFF 图像、DOCX、XLSX 或 CSV 文件。",
        )
    kind = sniff(data)
    if kind is None:
        raise IntakeError(
            "unknown-content",
            f"文件“{name}”的内容不是可识别的 PDF、图像、Word、Excel 或 CSV 文件（可能已损坏或是其他类型的文件）。",
        )
    if kind != claimed:
        raise IntakeError(
            "type-mismatch",
            f"文件“{name}”的扩展名表明是{KIND_LABELS[claimed]}，但其内容实际是{KIND_LABELS[kind]}；"
            "请核对文件后按其真实类型上传。",
        )
    pages = None
    if kind == "pdf":
        pages = _check_pdf(name, data)
    elif kind in IMAGE_KINDS:
        _check_image(name, data)
    elif kind in ("docx", "xlsx"):
        _check_office(name, data, kind)
    return Accepted(kind=kind, media_type=MEDIA_TYPES[kind], pages=pages)


def sniff(data: bytes) -> str | None:
    """The file's kind from its first bytes (and, for zip containers, its parts)."""
    head = data[:1024]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return None
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        return None
    # PDF readers accept the header anywhere in the first 1024 bytes; checked after the formats whose
    # signature is their very first bytes, so an image or archive carrying "%PDF-" stays what it is.
    if b"%PDF-" in head:
        return "pdf"
    if _looks_like_csv(data):
        return "csv"
    return None


def decode_text(data: bytes) -> str | None:
    """CSV text: UTF-8 (with or without BOM), else GB18030 (what Chinese Excel saves)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _looks_like_csv(data: bytes) -> bool:
    if b"\x00" in data[:65536]:
        return False
    text = decode_text(data)
    if text is None:
        return False
    sample = text[:65536]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t")
    return controls == 0 and bool(sample.strip())


def _check_pdf(name: str, data: bytes) -> int:
    import pikepdf
    import pypdfium2

    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            encrypted = pdf.is_encrypted
    except pikepdf.PasswordError:
        encrypted = True
    except pikepdf.PdfError:
        raise IntakeError("corrupt-pdf", f"文件“{name}”是损坏的 PDF，无法打开；请重新导出或扫描后上传。") from None
    if encrypted:
        raise IntakeError(
            "encrypted-pdf", f"文件“{name}”是加密（设有密码或权限限制）的 PDF，无法审查；请上传未加密的版本。"
        )
    try:
        document = pypdfium2.PdfDocument(data)
        try:
            pages = len(document)
            if pages:
                document[0].get_size()
        finally:
            document.close()
    except pypdfium2.PdfiumError:
        raise IntakeError("corrupt-pdf", f"文件“{name}”是损坏的 PDF，无法打开；请重新导出或扫描后上传。") from None
    if pages == 0:
        raise IntakeError("corrupt-pdf", f"文件“{name}”是没有页面的 PDF；请重新导出后上传。")
    if pages > MAX_PAGES:
        raise IntakeError("too-many-pages", f"文件“{name}”有 {pages} 页，超过 {MAX_PAGES} 页的上限；请拆分后上传。")
    return pages


def _check_image(name: str, data: bytes) -> None:
    from PIL import Image

    bomb = f"文件“{name}”的图像尺寸异常巨大（可能是“图像炸弹”），拒绝处理；请上传正常分辨率（如 300 dpi）的扫描件。"
    previous = Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise IntakeError("image-bomb", bomb)
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise IntakeError("image-bomb", bomb) from None
    except IntakeError:
        raise
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for a damaged file
        raise IntakeError("corrupt-image", f"文件“{name}”是损坏的图像，无法打开；请重新扫描后上传。") from None
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _check_office(name: str, data: bytes, kind: str) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
            raise IntakeError("zip-bomb", f"文件“{name}”解压后异常巨大，拒绝处理；请另存为普通文档后上传。")
        names = {info.filename for info in infos}
        content_types = archive.read("[Content_Types].xml").decode("utf-8", "replace") if "[Content_Types].xml" in names else ""
    if any(n.lower().endswith("vbaproject.bin") for n in names) or "macroEnabled" in content_types:
        raise IntakeError(
            "macros",
            f"文件“{name}”含有宏（VBA 代码），不能公开；请另存为不含宏的 .{kind} 文档后上传。",
        )
    try:
        if kind == "xlsx":
            import openpyxl

            openpyxl.load_workbook(io.BytesIO(data), read_only=True).close()
        else:
            import xml.etree.ElementTree as ET

            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                ET.fromstring(archive.read("word/document.xml"))
    except Exception:  # noqa: BLE001
        raise IntakeError("corrupt-office", f"文件“{name}”已损坏，无法打开；请重新保存后上传。") from None


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size < 1024**3 else f"{size / 1024**3:.1f} GB"
