"""Information-processing fees (Reg. 42; 国办函〔2020〕109号): pure banding rules."""

from fees.banding import (
    FeeQuote,
    FeeStandard,
    fee_per_application,
    fee_per_pages,
    quote,
)

__all__ = ["FeeQuote", "FeeStandard", "fee_per_application", "fee_per_pages", "quote"]
