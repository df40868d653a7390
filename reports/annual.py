"""The annual report's counting rules (Reg. 49-50; format 国办公开办函〔2021〕30号; RULES §10). Pure.

The database gives grouped counts (db/reports_repository.py); this module turns them into the
report's tables, applies the agency's manual adjustments, checks 一 + 二 = 三（七） + 四 per column,
and drafts the narrative sections from the figures. No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from outcomes import OutcomeCode
from policy.intake import APPLICANT_TYPE_LABELS

# Table 三's columns: 自然人 | 法人或其他组织 (five kinds) | 总计 (30号 format).
PERSON_COLUMNS: tuple[str, ...] = tuple(APPLICANT_TYPE_LABELS)
TOTAL = "total"
COLUMNS: tuple[str, ...] = (*PERSON_COLUMNS, TOTAL)
COLUMN_LABELS: dict[str, str] = {**APPLICANT_TYPE_LABELS, TOTAL: "总计"}
ORGANISATION_COLUMNS: tuple[str, ...] = PERSON_COLUMNS[1:]

# Table 三's rows, in the 30号 order: 一, 二, 三 (every outcome of RULES §6, then （七）总计), 四.
NEW, CARRIED_IN, RESULTS_TOTAL, CARRIED_OUT = "new", "carried-in", "results-total", "carried-out"
OUTCOME_ROWS: tuple[str, ...] = tuple(code.value for code in OutcomeCode)
ROWS: tuple[str, ...] = (NEW, CARRIED_IN, *OUTCOME_ROWS, RESULTS_TOTAL, CARRIED_OUT)

_CATEGORY = {"disclosed": "（一）予以公开", "partly": "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
             "withheld": "（三）不予公开", "unavailable": "（四）无法提供", "not": "（五）不予处理", "other": "（六）其他处理"}
_SUB = {
    OutcomeCode.WITHHELD_STATE_SECRET: "1.属于国家秘密",
    OutcomeCode.WITHHELD_LAW_PROHIBITS: "2.其他法律行政法规禁止公开",
    OutcomeCode.WITHHELD_THREE_SECURITIES: "3.危及“三安全一稳定”",
    OutcomeCode.WITHHELD_THIRD_PARTY: "4.保护第三方合法权益",
    OutcomeCode.WITHHELD_INTERNAL_AFFAIRS: "5.属于三类内部事务信息",
    OutcomeCode.WITHHELD_PROCESS_INFO: "6.属于四类过程性信息",
    OutcomeCode.WITHHELD_ENFORCEMENT_FILE: "7.属于行政执法案卷",
    OutcomeCode.WITHHELD_ADMIN_QUERY: "8.属于行政查询事项",
    OutcomeCode.UNAVAILABLE_NOT_HELD: "1.本机关不掌握相关政府信息",
    OutcomeCode.UNAVAILABLE_NEEDS_CREATION: "2.没有现成信息需要另行制作",
    OutcomeCode.UNAVAILABLE_STILL_UNCLEAR: "3.补正后申请内容仍不明确",
    OutcomeCode.NOT_PROCESSED_PETITION: "1.信访举报投诉类申请",
    OutcomeCode.NOT_PROCESSED_REPEAT: "2.重复申请",
    OutcomeCode.NOT_PROCESSED_PUBLICATION: "3.要求提供公开出版物",
    OutcomeCode.NOT_PROCESSED_EXCESSIVE: "4.无正当理由大量反复申请",
    OutcomeCode.NOT_PROCESSED_CONFIRMATION: "5.要求行政机关确认或重新出具已获取信息",
    OutcomeCode.OTHER_NO_SUPPLEMENT: "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    OutcomeCode.OTHER_FEE_UNPAID: "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    OutcomeCode.OTHER: "3.其他",
}

_SHORT = {"disclosed": "予以公开", "partly": "部分公开", "withheld": "不予公开", "unavailable": "无法提供",
          "not": "不予处理", "other": "其他处理"}


def category_label(row: str) -> str:
    return _CATEGORY[row.split("-")[0]]


def row_label(row: str) -> str:
    if row == NEW:
        return "一、本年新收政府信息公开申请数量"
    if row == CARRIED_IN:
        return "二、上年结转政府信息公开申请数量"
    if row == RESULTS_TOTAL:
        return "（七）总计"
    if row == CARRIED_OUT:
        return "四、结转下年度继续办理"
    code = OutcomeCode(row)
    return _SUB.get(code) or category_label(row)


COUNTING_RULE = (
    "统计口径：每件申请只计一次。第一、二、四行按申请件数统计；第三行“本年度办理结果”按本年度签发的答复"
    "（或撤回、视为放弃之日）统计，每件申请按其答复结果计入一行：一件申请含多项内容、部分予以公开而其余不予公开"
    "或无法提供的，只计入“部分公开”，不计其他情形；各项均未公开的，按本表顺序计入最先的一种情形。"
    "申请人撤回申请的计入“其他处理—其他”，逾期不补正视为放弃的计入“其他处理—1”。"
    "截至12月31日尚未答复的申请结转下年度。"
)


def application_outcome(item_outcomes: Iterable[OutcomeCode | str]) -> OutcomeCode:
    """The one outcome an application counts under (RULES §10; 30号 table 三 note on 部分公开).

    Partly disclosed, or disclosed together with anything else, counts as 部分公开 only;
    otherwise the first outcome in report order.
    """
    outcomes = {OutcomeCode(o) for o in item_outcomes}
    if not outcomes:
        raise ValueError("an application without a signed outcome is not counted")
    if OutcomeCode.PARTLY_DISCLOSED in outcomes or (OutcomeCode.DISCLOSED in outcomes and len(outcomes) > 1):
        return OutcomeCode.PARTLY_DISCLOSED
    order = list(OutcomeCode)
    return min(outcomes, key=order.index)


# --- table 三 -----------------------------------------------------------------------------------

Counts = Mapping[str, Mapping[str, int]]  # row -> column -> count (person columns only)


def empty_table() -> dict[str, dict[str, int]]:
    return {row: {column: 0 for column in COLUMNS} for row in ROWS}


def build_table3(
    new: Mapping[str, int],
    carried_in: Mapping[str, int],
    results: Mapping[tuple[str, str], int],
    carried_out: Mapping[str, int],
    adjustments: Counts | None = None,
) -> dict[str, dict[str, int]]:
    """Table 三 from grouped counts: `results` is keyed (outcome, applicant_type).

    `adjustments` (row -> column -> signed count) add the applications handled outside the system
    (paper records before it was introduced), entered by hand with a reason. Totals (the 总计 column
    and row （七）) are always computed, never entered.
    """
    table = empty_table()
    for column in PERSON_COLUMNS:
        table[NEW][column] = int(new.get(column, 0))
        table[CARRIED_IN][column] = int(carried_in.get(column, 0))
        table[CARRIED_OUT][column] = int(carried_out.get(column, 0))
    for (outcome, column), n in results.items():
        if outcome in table and column in PERSON_COLUMNS:
            table[outcome][column] += int(n)
    for row, cells in (adjustments or {}).items():
        for column, n in cells.items():
            table[row][column] += int(n)
    for column in PERSON_COLUMNS:
        table[RESULTS_TOTAL][column] = sum(table[row][column] for row in OUTCOME_ROWS)
    for row in ROWS:
        table[row][TOTAL] = sum(table[row][column] for column in PERSON_COLUMNS)
    return table


def check_table3(table: Mapping[str, Mapping[str, int]]) -> dict:
    """一 + 二 = 三（七） + 四 for every column (30号 format's own check); also no negative cell."""
    columns = []
    for column in COLUMNS:
        left = table[NEW][column] + table[CARRIED_IN][column]
        right = table[RESULTS_TOTAL][column] + table[CARRIED_OUT][column]
        columns.append({"column": column, "label": COLUMN_LABELS[column], "new": table[NEW][column],
                        "carried_in": table[CARRIED_IN][column], "results_total": table[RESULTS_TOTAL][column],
                        "carried_out": table[CARRIED_OUT][column], "left": left, "right": right,
                        "ok": left == right})
    problems = [f"{c['label']}列：一＋二＝{c['left']}，三（七）＋四＝{c['right']}，不相等" for c in columns if not c["ok"]]
    negative = [f"{row_label(row)}·{COLUMN_LABELS[column]}为负数（{n}）"
                for row, cells in table.items() for column, n in cells.items() if n < 0]
    return {"ok": not problems and not negative, "columns": columns, "problems": problems + negative}


def validate_adjustments(adjustments: Mapping[str, Mapping[str, int]]) -> str | None:
    for row, cells in adjustments.items():
        if row not in ROWS or row == RESULTS_TOTAL:
            return f"不能调整的行：{row}（总计由系统计算）"
        for column in cells:
            if column not in PERSON_COLUMNS:
                return f"不能调整的列：{column}（总计由系统计算）"
    return None


# --- table 二 (proactive disclosure): the figures staff record per year (政务公开 module), or by hand --

PROACTIVE_ROWS: tuple[dict, ...] = (
    {"group": "第二十条第（一）项", "key": "rules", "label": "规章", "fields": ("made", "repealed", "in_force")},
    {"group": "第二十条第（一）项", "key": "normative-documents", "label": "行政规范性文件",
     "fields": ("made", "repealed", "in_force")},
    {"group": "第二十条第（五）项", "key": "licensing", "label": "行政许可", "fields": ("decisions",)},
    {"group": "第二十条第（六）项", "key": "penalties", "label": "行政处罚", "fields": ("decisions",)},
    {"group": "第二十条第（六）项", "key": "coercion", "label": "行政强制", "fields": ("decisions",)},
    {"group": "第二十条第（八）项", "key": "fees", "label": "行政事业性收费", "fields": ("amount_10k_yuan",)},
)
PROACTIVE_FIELD_LABELS = {"made": "本年制发件数", "repealed": "本年废止件数", "in_force": "现行有效件数",
                          "decisions": "本年处理决定数量", "amount_10k_yuan": "本年收费金额（单位：万元）"}


def build_table2(manual: Mapping[str, Mapping[str, float | int | None]] | None,
                 recorded: Mapping[str, Mapping[str, float | int | None]] | None = None,
                 catalogue: Mapping[str, Mapping[str, int]] | None = None) -> dict:
    """Table 二 from the figures recorded in the 政务公开 module (`recorded`, per row and field: the
    catalogue's counts of 规章 and 规范性文件, `catalogue`, unless staff recorded another figure); a
    figure entered in the report's draft (`manual`) overrides the recorded one, and says so."""
    manual, recorded, catalogue = manual or {}, recorded or {}, catalogue or {}
    rows, missing, overridden, corrected = [], [], [], []
    for spec in PROACTIVE_ROWS:
        entered, kept = manual.get(spec["key"], {}), recorded.get(spec["key"], {})
        cells, sources = {}, {}
        for field in spec["fields"]:
            if entered.get(field) is not None:
                cells[field], sources[field] = entered[field], "manual"
                if kept.get(field) is not None and kept[field] != entered[field]:
                    overridden.append(f"{spec['label']}·{PROACTIVE_FIELD_LABELS[field]}（登记 {_plain(kept[field])}，"
                                      f"报告中改为 {_plain(entered[field])}）")
            elif kept.get(field) is not None:
                cells[field], sources[field] = kept[field], "recorded"
                counted = catalogue.get(spec["key"], {}).get(field)
                if counted is not None and counted == kept[field]:
                    sources[field] = "catalogue"
                elif counted is not None:
                    corrected.append(f"{spec['label']}·{PROACTIVE_FIELD_LABELS[field]}（目录统计 {counted}，"
                                      f"登记改为 {_plain(kept[field])}）")
            else:
                cells[field], sources[field] = None, "missing"
                missing.append(f"{spec['label']}·{PROACTIVE_FIELD_LABELS[field]}")
        kinds = set(sources.values()) - {"missing"}
        rows.append({"group": spec["group"], "key": spec["key"], "label": spec["label"], "cells": cells,
                     "sources": sources, "source": kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "missing")})
    note = "本表数字取自政务公开模块登记的年度数字（规章和规范性文件的制发、废止、现行有效件数，行政许可、行政处罚、行政强制的处理决定数量，行政事业性收费金额）"
    if any(s == "catalogue" for r in rows for s in r["sources"].values()):
        note += "；规章和规范性文件的件数由主动公开目录按印发、废止日期统计"
    if corrected:
        note += "；以下数字由工作人员登记，替代目录统计：" + "；".join(corrected)
    if overridden:
        note += "；以下数字在报告中手工调整：" + "；".join(overridden)
    elif any(r["source"] in ("manual", "mixed") for r in rows):
        note += "；部分数字在报告中手工填报"
    return {"rows": rows, "missing": missing, "overridden": overridden, "corrected": corrected,
            "source_note": note + "。"}


def _plain(value: float | int) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def validate_table2(manual: Mapping[str, Mapping[str, float | int | None]]) -> str | None:
    specs = {spec["key"]: spec for spec in PROACTIVE_ROWS}
    for key, cells in manual.items():
        if key not in specs:
            return f"表二没有此项：{key}"
        for field, value in cells.items():
            if field not in specs[key]["fields"]:
                return f"表二「{specs[key]['label']}」没有此栏：{field}"
            if value is not None and value < 0:
                return f"表二「{specs[key]['label']}」的数字不能为负数"
    return None


# --- table 四 (reconsideration and litigation) -------------------------------------------------

REMEDY_KINDS: dict[str, str] = {
    "reconsideration": "行政复议",
    "litigation-direct": "行政诉讼·未经复议直接起诉",
    "litigation-after-reconsideration": "行政诉讼·复议后起诉",
}
REMEDY_RESULTS: dict[str, str] = {"maintained": "结果维持", "corrected": "结果纠正", "other": "其他结果",
                                  "pending": "尚未审结", "total": "总计"}
TABLE4_RULE = "表四统计本年度内提起的行政复议、行政诉讼案件，结果以12月31日的审结情况为准；届时尚未审结的计入“尚未审结”。"


def build_table4(cases: Iterable[tuple[str, str | None, date | None]], year_end: date) -> dict[str, dict[str, int]]:
    """cases: (kind, result, concluded_on) of the cases filed in the year; result as known at `year_end`."""
    table = {kind: {result: 0 for result in REMEDY_RESULTS} for kind in REMEDY_KINDS}
    for kind, result, concluded_on in cases:
        decided = result is not None and concluded_on is not None and concluded_on <= year_end
        table[kind]["pending" if not decided else result] += 1
        table[kind]["total"] += 1
    return table


# --- fees (Reg. 42; 国办函〔2020〕109号) ---------------------------------------------------------

# The fee table of the annual report (section 六; Reg. 42, 50): keys of db.fees_repository.fee_counts, in order.
FEE_ROWS: tuple[tuple[str, str], ...] = (
    ("noticed_applications", "经批准发出收费通知（件）"),
    ("noticed_amount_yuan", "收费通知金额（元）"),
    ("charged_applications", "已缴费（件）"),
    ("amount_yuan", "实收金额（元）"),
    ("waived_applications", "减免（件）"),
    ("unpaid_applications", "逾期未缴费、不再处理（件，计入表三“其他处理”第2项）"),
    ("unpaid_amount_yuan", "逾期未缴金额（元）"),
)
FEE_RULE = ("收费通知按发出日期、缴费和减免按缴费（减免）日期、逾期未缴费按答复办结日期计入年度；"
            "依据《政府信息公开信息处理费管理办法》（国办函〔2020〕109号）")


def fee_figures(counts: Mapping[str, int] | None = None) -> dict:
    """The year's fee figures as recorded (db.fees_repository.fee_counts), with the table's rows and rule."""
    figures = {key: int((counts or {}).get(key, 0)) for key, _ in FEE_ROWS}
    note = FEE_RULE if figures["noticed_applications"] or figures["charged_applications"] or figures["waived_applications"] \
        or figures["unpaid_applications"] else "本年度未收取信息处理费，以上为零"
    return figures | {"rows": [{"key": key, "label": label, "value": figures[key]} for key, label in FEE_ROWS],
                      "note": note}


# --- narrative sections -------------------------------------------------------------------------

SECTIONS: tuple[tuple[str, str], ...] = (
    ("overview", "一、总体情况"),
    ("proactive", "二、主动公开政府信息情况"),
    ("applications", "三、收到和处理政府信息公开申请情况"),
    ("remedies", "四、政府信息公开行政复议、行政诉讼情况"),
    ("problems", "五、存在的主要问题及改进情况"),
    ("other", "六、其他需要报告的事项"),
)


def participation_sentences(year: int, figures: Mapping[str, int] | None) -> tuple[str, str]:
    """Public participation (RULES §13; seeds 000, 001, 003: 重大决策预公开, 意见收集和采纳情况, 在线咨询) in
    sections 一 and 二: (a sentence for each), empty when the year has none (db.participation_repository)."""
    f = figures or {}
    if not (f.get("drafts_published") or f.get("inquiries_answered")):
        return "", ""
    overview = (f"全年公开征求意见的决策草案{f['drafts_published']}件，收到意见{f['comments_received']}条；"
                f"答复在线咨询{f['inquiries_answered']}件，其中按期答复{f['inquiries_answered_on_time']}件。")
    proactive = (f"重大决策预公开：公开征求意见{f['drafts_published']}件，收到意见{f['comments_received']}条，"
                 f"采纳{f['comments_adopted']}条、部分采纳{f['comments_partly_adopted']}条、未采纳{f['comments_not_adopted']}条；"
                 f"公布意见收集和采纳情况{f['feedback_published']}件，其中按期公布{f['feedback_on_time']}件。"
                 f"在线咨询：答复{f['inquiries_answered']}件，其中按期答复{f['inquiries_answered_on_time']}件。")
    return overview, proactive


def draft_sections(year: int, agency: str, table3: Mapping[str, Mapping[str, int]],
                   table4: Mapping[str, Mapping[str, int]], fees: Mapping, timeliness: Mapping,
                   participation: Mapping[str, int] | None = None) -> dict[str, str]:
    """A first draft of every section from the figures; staff edit it before publication."""
    took_part, consulted = participation_sentences(year, participation)
    t = {row: cells[TOTAL] for row, cells in table3.items()}
    by_category: dict[str, int] = {}
    for row in OUTCOME_ROWS:
        short = _SHORT[row.split("-")[0]]
        by_category[short] = by_category.get(short, 0) + t[row]
    results = "，".join(f"{label}{n}件" for label, n in by_category.items() if n)
    remedies_total = sum(cells["total"] for cells in table4.values())
    replied, on_time = timeliness.get("replied", 0), timeliness.get("on_time", 0)
    rate = f"{on_time / replied:.1%}" if replied else "—"
    return {
        "overview": (f"{year}年，{agency}认真贯彻落实《中华人民共和国政府信息公开条例》，依法做好主动公开和依申请公开工作。"
                     f"全年新收政府信息公开申请{t[NEW]}件，上年结转{t[CARRIED_IN]}件，办结{t[RESULTS_TOTAL]}件，"
                     f"结转下年度继续办理{t[CARRIED_OUT]}件；按期答复率{rate}。" + took_part),
        "proactive": f"{year}年主动公开政府信息情况见下表。" + consulted,
        "applications": (f"{year}年新收政府信息公开申请{t[NEW]}件，上年结转{t[CARRIED_IN]}件。本年度办结{t[RESULTS_TOTAL]}件"
                         + (f"，其中{results}" if results else "") + f"；结转下年度继续办理{t[CARRIED_OUT]}件。"
                         + COUNTING_RULE),
        "remedies": (f"{year}年，因政府信息公开工作被申请行政复议、提起行政诉讼共{remedies_total}件，情况见下表。"
                     if remedies_total else f"{year}年，本机关未发生政府信息公开行政复议、行政诉讼案件。") + TABLE4_RULE,
        "problems": "（请填写本年度政府信息公开工作存在的主要问题及改进情况。）",
        "other": (f"本年度收取信息处理费{fees['charged_applications']}件，金额{fees['amount_yuan']}元"
                  f"（依据《政府信息公开信息处理费管理办法》，国办函〔2020〕109号）"
                  + (f"；减免{fees.get('waived_applications', 0)}件" if fees.get("waived_applications") else "")
                  + (f"；申请人逾期未缴费、不再处理{fees['unpaid_applications']}件" if fees.get("unpaid_applications") else "")
                  + "。" + ("" if fees["charged_applications"] else "本年度未收取信息处理费。")),
    }
