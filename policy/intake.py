"""Intake rules (RULES §2): channels, what their receipt date means, who may apply."""

from typing import Literal

Channel = Literal["online", "letter-registered", "letter-ordinary", "in-person", "fax", "email", "oral"]

# Reg. 31: the legal receipt date depends on how the application arrived; the registrar enters
# that date, and every explanation of a deadline names which event it was.
RECEIPT_BASIS: dict[str, str] = {
    "online": "网络申请，双方确认之日",
    "letter-registered": "挂号信函，本机关签收之日",
    "letter-ordinary": "平常信函，与申请人确认之日",
    "in-person": "当面提交之日",
    "fax": "传真申请，双方确认之日",
    "email": "电子邮件申请，双方确认之日",
    "oral": "口头提出、由本机关代为填写之日",
}

ApplicantType = Literal[
    "natural-person", "enterprise", "research-institution", "public-interest-org", "legal-service", "other-org"
]

# Column headings of the annual report's table 三 (国办公开办函〔2021〕30号).
APPLICANT_TYPE_LABELS: dict[str, str] = {
    "natural-person": "自然人",
    "enterprise": "商业企业",
    "research-institution": "科研机构",
    "public-interest-org": "社会公益组织",
    "legal-service": "法律服务机构",
    "other-org": "其他",
}
