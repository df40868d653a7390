"""Files made by the tests (and bench/screening.py): PDFs with text layers, scans drawn with the CJK
font, spreadsheets of enterprises, and the bad inputs of issue 22."""

import io
import zipfile

from PIL import Image, ImageDraw, ImageFont

from letters.documents import find_cjk_font

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

ID_NUMBER = "11010519491231002X"
PHONE = "13912345678"


def id_number(first17: str) -> str:
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS)) % 11]


def credit_code(first17: str) -> str:
    total = sum(USCC.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return first17 + USCC[(31 - total % 31) % 31]


def luhn_card(first: str) -> str:
    digits = [int(d) for d in first]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return first + str((10 - total % 10) % 10)


def text_pdf(pages: list[list[str]], *, title: str = "样本", author: str | None = None) -> bytes:
    """A text PDF, one list of lines per page (fpdf2 with the CJK font)."""
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format="A4")
    font = find_cjk_font()
    pdf.add_font("cjk", fname=str(font), **({"collection_font_number": 0} if font.suffix == ".ttc" else {}))
    pdf.set_title(title)
    if author:
        pdf.set_author(author)
    for lines in pages:
        pdf.add_page()
        pdf.set_font("cjk", size=12)
        for line in lines:
            pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def scan_image(lines: list[str], *, size: tuple[int, int] = (1654, 2339), font_px: int = 44) -> Image.Image:
    """A 'scanned' A4 page at 200 dpi: black text drawn on white with the CJK font (no text layer)."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(find_cjk_font()), font_px)
    y = 160
    for line in lines:
        draw.text((150, y), line, font=font, fill=0)
        y += int(font_px * 1.8)
    return image


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def enterprises_xlsx(rows: int = 5) -> tuple[bytes, list[str]]:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "调查单位"
    sheet.append(["序号", "企业名称", "统一社会信用代码", "从业人员（人）", "营业收入（万元）"])
    codes = []
    for i in range(1, rows + 1):
        code = credit_code(f"913501{i:02d}MA{i:02d}XKQ15")
        codes.append(code)
        sheet.append([i, f"福州市第{i}制造有限公司", code, 100 + i, 2000.5 + i])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), codes


def docx(paragraphs: list[str], *, macros: bool = False) -> bytes:
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        archive.writestr("word/document.xml", document)
        if macros:
            archive.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0fake VBA project")
    return out.getvalue()


def encrypted_pdf() -> bytes:
    import pikepdf

    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(text_pdf([["机密文件"]]))) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(user="secret", owner="owner"))
    return out.getvalue()


def image_bomb() -> bytes:
    """A PNG that claims 20000 × 20000 pixels (400 Mpx) in a few hundred bytes."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 20000, 20000, 1, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * (20000 // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(200)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
