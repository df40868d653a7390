"""Outcome codes, one per annual-report row of table 三 (国办公开办函〔2021〕30号), in report order."""

from enum import StrEnum


class OutcomeCategory(StrEnum):
    DISCLOSED = "予以公开"
    PARTLY_DISCLOSED = "部分公开"
    NOT_DISCLOSED = "不予公开"
    UNABLE_TO_PROVIDE = "无法提供"
    NOT_PROCESSED = "不予处理"
    OTHER = "其他处理"


class OutcomeCode(StrEnum):
    DISCLOSED = "disclosed"
    PARTLY_DISCLOSED = "partly-disclosed"
    WITHHELD_STATE_SECRET = "withheld-1"
    WITHHELD_LAW_PROHIBITS = "withheld-2"
    WITHHELD_THREE_SECURITIES = "withheld-3"
    WITHHELD_THIRD_PARTY = "withheld-4"
    WITHHELD_INTERNAL_AFFAIRS = "withheld-5"
    WITHHELD_PROCESS_INFO = "withheld-6"
    WITHHELD_ENFORCEMENT_FILE = "withheld-7"
    WITHHELD_ADMIN_QUERY = "withheld-8"
    UNAVAILABLE_NOT_HELD = "unavailable-1"
    UNAVAILABLE_NEEDS_CREATION = "unavailable-2"
    UNAVAILABLE_STILL_UNCLEAR = "unavailable-3"
    NOT_PROCESSED_PETITION = "not-processed-1"
    NOT_PROCESSED_REPEAT = "not-processed-2"
    NOT_PROCESSED_PUBLICATION = "not-processed-3"
    NOT_PROCESSED_EXCESSIVE = "not-processed-4"
    NOT_PROCESSED_CONFIRMATION = "not-processed-5"
    OTHER_NO_SUPPLEMENT = "other-1"
    OTHER_FEE_UNPAID = "other-2"
    OTHER = "other-3"


OUTCOME_LABELS: dict[OutcomeCode, str] = {
    OutcomeCode.DISCLOSED: "予以公开",
    OutcomeCode.PARTLY_DISCLOSED: "部分公开",
    OutcomeCode.WITHHELD_STATE_SECRET: "不予公开：属于国家秘密",
    OutcomeCode.WITHHELD_LAW_PROHIBITS: "不予公开：其他法律行政法规禁止公开",
    OutcomeCode.WITHHELD_THREE_SECURITIES: "不予公开：危及“三安全一稳定”",
    OutcomeCode.WITHHELD_THIRD_PARTY: "不予公开：保护第三方合法权益",
    OutcomeCode.WITHHELD_INTERNAL_AFFAIRS: "不予公开：属于三类内部事务信息",
    OutcomeCode.WITHHELD_PROCESS_INFO: "不予公开：属于四类过程性信息",
    OutcomeCode.WITHHELD_ENFORCEMENT_FILE: "不予公开：属于行政执法案卷",
    OutcomeCode.WITHHELD_ADMIN_QUERY: "不予公开：属于行政查询事项",
    OutcomeCode.UNAVAILABLE_NOT_HELD: "无法提供：本机关不掌握相关政府信息",
    OutcomeCode.UNAVAILABLE_NEEDS_CREATION: "无法提供：没有现成信息需要另行制作",
    OutcomeCode.UNAVAILABLE_STILL_UNCLEAR: "无法提供：补正后申请内容仍不明确",
    OutcomeCode.NOT_PROCESSED_PETITION: "不予处理：信访举报投诉类申请",
    OutcomeCode.NOT_PROCESSED_REPEAT: "不予处理：重复申请",
    OutcomeCode.NOT_PROCESSED_PUBLICATION: "不予处理：要求提供公开出版物",
    OutcomeCode.NOT_PROCESSED_EXCESSIVE: "不予处理：无正当理由大量反复申请",
    OutcomeCode.NOT_PROCESSED_CONFIRMATION: "不予处理：要求行政机关确认或重新出具已获取信息",
    OutcomeCode.OTHER_NO_SUPPLEMENT: "其他处理：申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    OutcomeCode.OTHER_FEE_UNPAID: "其他处理：申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    OutcomeCode.OTHER: "其他处理：其他",
}


def category_of(code: OutcomeCode) -> OutcomeCategory:
    prefix = code.value.split("-")[0]
    return {
        "disclosed": OutcomeCategory.DISCLOSED,
        "partly": OutcomeCategory.PARTLY_DISCLOSED,
        "withheld": OutcomeCategory.NOT_DISCLOSED,
        "unavailable": OutcomeCategory.UNABLE_TO_PROVIDE,
        "not": OutcomeCategory.NOT_PROCESSED,
        "other": OutcomeCategory.OTHER,
    }[prefix]


def label_of(code: OutcomeCode) -> str:
    return OUTCOME_LABELS[code]
