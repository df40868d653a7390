"""Issue 22: files to be released, screened page by page and redacted for good (release/)."""

import io

import pytest

from release.detect import luhn_valid, screen_pages, valid_credit_code
from release.extract import extract
from release.intake import IntakeError, check_file
from release.redact import Area, redact_pdf
from release.verify import run_xray, squeeze, structure_problems, verify_redacted
from release.withheld import areas_for, withheld_strings
from tests.release_samples import (
    ID_NUMBER,
    PHONE,
    credit_code,
    docx,
    encrypted_pdf,
    enterprises_xlsx,
    id_number,
    image_bomb,
    luhn_card,
    png_bytes,
    scan_image,
    text_pdf,
)

from datetime import date

TODAY = date(2026, 3, 5)


def screen(name: str, data: bytes):
    accepted = check_file(name, data)
    extracted = extract(accepted.kind, data, name=name)
    return extracted, screen_pages(extracted.pages, today=TODAY)


def test_pdf_with_an_id_number_on_page_3_is_flagged_at_page_3_with_its_place() -> None:
    data = text_pdf([["第一页 总体情况"], ["第二页 统计口径"], ["第三页 附件", f"联系人身份证号：{ID_NUMBER}"]])
    extracted, findings = screen("答复附件.pdf", data)
    [finding] = [f for f in findings if f.kind == "id-card"]
    assert finding.page == 3 and [p.source for p in extracted.pages] == ["text-layer"] * 3
    assert ID_NUMBER not in finding.excerpt
    x0, y0, x1, y1 = finding.place
    assert 0 < x0 < x1 < 1 and 0 < y0 < y1 < 0.3  # the second line from the top of an A4 page


def test_a_scan_with_a_phone_number_is_ocred_and_flagged_at_its_page() -> None:
    image = scan_image(["某某区统计局关于调查情况的说明", f"联系电话：{PHONE}", "以上情况属实。"])
    _, findings = screen("扫描件.png", png_bytes(image))
    phones = [f for f in findings if f.kind == "phone"]
    assert phones, findings
    assert phones[0].page == 1
    x0, y0, x1, y1 = phones[0].place
    # drawn at y = 160 + 79 px of 2339: the second line
    assert 0.05 < y0 < 0.12 and x1 > x0


def test_a_scanned_pdf_page_without_text_layer_is_ocred() -> None:
    from release.extract import images_to_pdf

    pdf = images_to_pdf([scan_image(["第一页"]), scan_image(["说明", f"身份证号 {ID_NUMBER}"])])
    extracted, findings = screen("扫描.pdf", pdf)
    assert [p.source for p in extracted.pages] == ["ocr", "ocr"]
    assert [f.page for f in findings if f.kind == "id-card"] == [2]


def test_spreadsheet_of_enterprises_flags_credit_codes_by_cell_and_the_unit_level_table() -> None:
    data, codes = enterprises_xlsx(4)
    assert all(valid_credit_code(c) for c in codes)
    _, findings = screen("调查单位名录.xlsx", data)
    credit = [f for f in findings if f.kind == "credit-code"]
    assert [f.ref for f in credit] == ["调查单位!C2", "调查单位!C3", "调查单位!C4", "调查单位!C5"]
    assert all(f.place is not None and f.page == 1 for f in credit)
    [table] = [f for f in findings if f.kind == "unit-level-table"]
    assert table.ref == "调查单位!B1" and "企业名称" in table.detail and "统计法第二十五条" in table.detail


def test_csv_and_docx_are_screened_too() -> None:
    code = credit_code("91110000MA01ABCD1")
    csv_data = f"单位名称,统一社会信用代码,地址\n北京某某科技有限公司,{code},朝阳区建国路88号\n".encode("gb18030")
    _, findings = screen("名录.csv", csv_data)
    assert {"credit-code", "address", "unit-level-table"} <= {f.kind for f in findings}
    card = luhn_card("622202020011234567")
    _, findings = screen("说明.docx", docx(["退款账户", f"开户行卡号 {card}", "秘密★5年"]))
    assert {f.kind for f in findings} >= {"bank-card", "secret-marking"}


def test_detectors_check_digits_not_just_shapes() -> None:
    assert luhn_valid(luhn_card("622202020011234567"))
    assert not luhn_valid(luhn_card("622202020011234567")[:-1] + "0") or luhn_card("622202020011234567").endswith("0")
    code = credit_code("91350100M000100Y4")
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert valid_credit_code(code) and not valid_credit_code(wrong)
    from release.pages import PageText

    page = PageText(page=1, source="text-layer")
    page.add(f"代码{wrong} 卡号{luhn_card('622202020011234567')[:-1]}9 无", None)
    kinds = {f.kind for f in screen_pages([page], today=TODAY)}
    assert "credit-code" not in kinds


@pytest.mark.parametrize(
    ("name", "make", "code", "words"),
    [
        ("空文件.pdf", lambda: b"", "empty", "空文件"),
        ("巨大.pdf", lambda: b"%PDF-1.7\n" + b"0" * (3 * 1024 * 1024), "too-large", "超过"),
        ("损坏.pdf", lambda: b"%PDF-1.7\n1 0 obj <</Type /Catalog>> garbage", "corrupt-pdf", "损坏"),
        ("加密.pdf", encrypted_pdf, "encrypted-pdf", "加密"),
        ("炸弹.png", image_bomb, "image-bomb", "图像炸弹"),
        ("宏.docx", lambda: docx(["正文"], macros=True), "macros", "宏"),
        ("伪装.pdf", lambda: png_bytes(scan_image(["这其实是图片"])), "type-mismatch", "实际是PNG 图像"),
        ("程序.pdf", lambda: b"MZ\x90\x00" + b"\x00" * 200, "unknown-content", "不是可识别"),
    ],
)
def test_bad_inputs_are_refused_with_a_clear_chinese_message(name, make, code, words) -> None:
    with pytest.raises(IntakeError) as refused:
        check_file(name, make(), max_bytes=2 * 1024 * 1024)
    assert refused.value.code == code
    assert words in refused.value.message and name in refused.value.message


def test_redacted_copy_keeps_nothing_withheld_and_xray_finds_nothing() -> None:
    other_id = id_number("35010219800101123")
    data = text_pdf(
        [["第一页 公开内容"], ["第二页", f"当事人身份证号：{ID_NUMBER}", f"联系电话：{PHONE}", "其余内容予以公开"], ["第三页", f"另一人 {other_id}"]],
        author="张三（经办人）",
    )
    extracted, findings = screen("处罚决定书.pdf", data)
    chosen = [(f, "条例第十五条") for f in findings if f.kind in ("id-card", "phone")]
    assert len(chosen) == 3
    drawn = [Area(1, (0.02, 0.02, 0.6, 0.065), "条例第十六条")]  # "第一页 公开内容" drawn over by hand
    areas = areas_for(chosen, drawn)
    withheld = withheld_strings(extracted.pages, areas)
    assert ID_NUMBER in withheld and PHONE in withheld and other_id in withheld and "第一页公开内容" in map(squeeze, withheld)
    released = redact_pdf(extracted.pdf, areas)

    # the released copy: its own text layer (OCR of the redacted pixels) is searchable for what was kept ...
    layer = "".join(squeeze(p.text) for p in extract("pdf", released, ocr_scans=False).pages)
    assert "其余内容予以公开" in layer
    # ... and nothing withheld survives: text layer, re-OCR, metadata, x-ray
    for secret in (ID_NUMBER, PHONE, other_id, "张三"):
        assert secret.encode() not in released
    check = verify_redacted(released, withheld)
    assert check.passed, check.problems
    assert check.xray == "{}"


def test_verification_catches_a_box_drawn_over_text_that_is_still_there() -> None:
    """The bad redaction the check exists for: a black box over a text layer that can still be copied."""
    import pikepdf

    data = text_pdf([["公开部分", f"身份证号 {ID_NUMBER}"]], author="某人")
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        box = pikepdf.Stream(pdf, b"q 0 0 0 rg 20 760 200 30 re f Q")
        page.contents_add(box, prepend=False)
        out = io.BytesIO()
        pdf.save(out)
    bad = out.getvalue()
    check = verify_redacted(bad, [ID_NUMBER], ocr_pages=False)
    assert not check.passed
    assert any("文字层仍含被删除的内容" in p for p in check.problems)
    assert any("文档信息" in p for p in check.problems)
    found, verdict = run_xray(bad)
    assert found, verdict
    assert structure_problems(redact_pdf(data, [], text_layer=False)) == []


def test_docx_and_xlsx_are_released_as_redacted_pdfs() -> None:
    data, codes = enterprises_xlsx(3)
    extracted, findings = screen("名录.xlsx", data)
    chosen = [(f, "统计法第二十五条") for f in findings if f.kind == "credit-code"]
    areas = areas_for(chosen, [])
    released = redact_pdf(extracted.pdf, areas)
    check = verify_redacted(released, withheld_strings(extracted.pages, areas))
    assert check.passed, check.problems
    assert not any(code in "".join(squeeze(p.text) for p in extract("pdf", released, ocr_scans=False).pages) for code in codes)


def test_a_pdf_listing_enterprises_is_a_unit_level_table_but_one_person_in_a_letter_is_not() -> None:
    codes = [credit_code(f"913501{i:02d}MA{i:02d}XKQ15") for i in range(1, 4)]
    table = text_pdf([["企业名称        统一社会信用代码"] + [f"某某{i}有限公司   {c}" for i, c in enumerate(codes, 1)]])
    _, findings = screen("名录.pdf", table)
    assert [f.kind for f in findings].count("unit-level-table") == 1
    letter = text_pdf([["当事人姓名：王某", f"身份证号：{ID_NUMBER}", f"联系电话：{PHONE}"]])
    _, findings = screen("决定书.pdf", letter)
    assert "unit-level-table" not in [f.kind for f in findings]


def test_a_scanned_list_of_alike_lines_is_read_line_by_line() -> None:
    """Lines alike in layout ("……，联系电话139……") must not be cut into two columns at the comma (the phones lost)."""
    lines = [f"第{i}户 关于住户调查工作情况的说明，联系电话{PHONE[:-1]}{i}。" for i in range(8)]
    _, findings = screen("住户名单.png", png_bytes(scan_image(lines, font_px=33)))
    assert len([f for f in findings if f.kind == "phone"]) == 8


def test_a_png_carrying_a_pdf_header_is_a_png() -> None:
    from release.intake import sniff

    image = png_bytes(scan_image(["图"], size=(40, 40), font_px=10))
    polyglot = image[:33] + b"\x00\x00\x00\x08tEXt%PDF-1.7" + image[33:]
    assert sniff(polyglot) == "png"
    with pytest.raises(IntakeError) as refused:
        check_file("伪装.pdf", polyglot)
    assert refused.value.code == "type-mismatch"
