"""按件计收's count (办法 art. 4(1); 国办函〔2020〕109号): which of the applicant's applications are counted. Pure.

The applicant's applications are counted per calendar month across all channels (online, letter, fax, e-mail, in
person, oral): an application is the n-th of its month, n counting every application of the same applicant
(same 身份证件号码 / 统一社会信用代码) received in that month up to and including it, in order of receipt (Reg. 31:
the receipt date is the application's legal date; the same day's applications in order of their numbers).
"""

from collections.abc import Iterable
from datetime import date

Receipt = tuple[date, str]
"""(收到申请之日, application number) of one application of the applicant."""


def counted_in_month(this: Receipt, applications: Iterable[Receipt]) -> list[Receipt]:
    """The applications the count of `this` rests on, in order of receipt, `this` last (办法 art. 4(1))."""
    day = this[0]
    same_month = {a for a in applications if (a[0].year, a[0].month) == (day.year, day.month) and a <= this}
    return sorted(same_month | {this})


def ordinal_in_month(this: Receipt, applications: Iterable[Receipt]) -> int:
    """`this` is the applicant's n-th application of its calendar month (1-based)."""
    return len(counted_in_month(this, applications))
