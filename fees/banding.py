"""The two fee standards of 《政府信息公开信息处理费管理办法》(国办函〔2020〕109号), Reg. 42. Pure.

Charging is the exception: only when the quantity or frequency of requests clearly exceeds a reasonable
range (Reg. 42 para. 1; 办法 art. 2). An application is charged by ONE standard, never both (办法 art. 3):

- 按件计收 (办法 art. 4(1)): per applicant per calendar month, applications counted across all channels;
  the 1st-10th are free, the 11th-30th cost 100 yuan each, and from the 31st the rate rises by 100 yuan
  for each further band of 10 (31st-40th 200 yuan, 41st-50th 300 yuan, ...).
- 按量计收 (办法 art. 4(2)): pages of one application; up to 30 free; the part from page 31 to 100 at
  10 yuan a page, from 101 to 200 at 20 yuan, beyond 200 at 40 yuan.
"""

from typing import Literal

from pydantic import BaseModel, Field

FeeStandard = Literal["per-application", "per-page"]

FREE_APPLICATIONS_PER_MONTH = 10
FIRST_CHARGED_BAND_END = 30
FIRST_CHARGED_RATE = 100
RATE_STEP = 100
BAND_SIZE = 10

# 按量计收: (first page of the band, last page or None, yuan per page), 办法 art. 4(2).
PAGE_BANDS: tuple[tuple[int, int | None, int], ...] = ((31, 100, 10), (101, 200, 20), (201, None, 40))


def fee_per_application(ordinal_in_month: int) -> int:
    """Yuan for the applicant's `ordinal_in_month`-th application this calendar month (办法 art. 4(1))."""
    if ordinal_in_month < 1:
        raise ValueError(f"the ordinal of an application starts at 1, got {ordinal_in_month}")
    if ordinal_in_month <= FREE_APPLICATIONS_PER_MONTH:
        return 0
    if ordinal_in_month <= FIRST_CHARGED_BAND_END:
        return FIRST_CHARGED_RATE
    bands_above = -(-(ordinal_in_month - FIRST_CHARGED_BAND_END) // BAND_SIZE)  # ceil
    return FIRST_CHARGED_RATE + RATE_STEP * bands_above


def fee_per_pages(pages: int) -> int:
    """Yuan for an application of `pages` pages, each band charged on its own part only (办法 art. 4(2))."""
    if pages < 0:
        raise ValueError(f"pages must not be negative, got {pages}")
    total = 0
    for first, last, rate in PAGE_BANDS:
        upper = pages if last is None else min(pages, last)
        if upper >= first:
            total += (upper - first + 1) * rate
    return total


class FeeQuote(BaseModel):
    standard: FeeStandard
    quantity: int = Field(description="the application's ordinal in the month, or its pages")
    amount_yuan: int
    basis: str = Field(description="the rule as the fee notice states it")
    counted: str = Field(default="", description="how the amount was counted, as the fee notice states it (109号)")


def counted_per_application(ordinal_in_month: int) -> str:
    """办法 art. 4(1): the band this application falls in and its rate."""
    amount = fee_per_application(ordinal_in_month)
    if ordinal_in_month <= FIRST_CHARGED_BAND_END:
        band = f"{FREE_APPLICATIONS_PER_MONTH + 1}-{FIRST_CHARGED_BAND_END}件"
    else:
        first = FIRST_CHARGED_BAND_END + 1 + (ordinal_in_month - FIRST_CHARGED_BAND_END - 1) // BAND_SIZE * BAND_SIZE
        band = f"{first}-{first + BAND_SIZE - 1}件"
    return f"本申请为本月第{ordinal_in_month}件，属于{band}一档，每件{amount}元，应缴{amount}元"


def counted_per_pages(pages: int) -> str:
    """办法 art. 4(2): each band's pages times its rate, then the sum."""
    parts = ["30页以下（含30页）的部分不收费"]
    for first, last, rate in PAGE_BANDS:
        upper = pages if last is None else min(pages, last)
        if upper >= first:
            n = upper - first + 1
            parts.append(f"第{first}-{upper}页共{n}页×{rate}元＝{n * rate}元")
    return f"共{pages}页：" + "，".join(parts) + f"；合计{fee_per_pages(pages)}元"


def quote(standard: FeeStandard, quantity: int) -> FeeQuote:
    """The fee by one standard, with the sentence the fee notice states as its basis."""
    if standard == "per-application":
        amount = fee_per_application(quantity)
        basis = (f"按件计收：本申请为申请人本月第{quantity}件政府信息公开申请（各渠道合并计算）；"
                 "每月1-10件不收费，11-30件每件100元，自第31件起以10件为一档，每增加一档，每件收费提高100元")
    else:
        amount = fee_per_pages(quantity)
        basis = (f"按量计收：本申请所需信息共{quantity}页；30页以下（含30页）不收费，31-100页的部分每页10元，"
                 "101-200页的部分每页20元，200页以上的部分每页40元")
    counted = (counted_per_application(quantity) if standard == "per-application" else counted_per_pages(quantity)) \
        if amount else ""
    return FeeQuote(standard=standard, quantity=quantity, amount_yuan=amount, counted=counted,
                    basis=f"{basis}（《政府信息公开信息处理费管理办法》（国办函〔2020〕109号））")
