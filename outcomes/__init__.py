"""Determinations (RULES §6): the outcome codes that end each item and fill the annual report."""

from outcomes.codes import OUTCOME_LABELS, OutcomeCategory, OutcomeCode, category_of, label_of

__all__ = ["OUTCOME_LABELS", "OutcomeCategory", "OutcomeCode", "category_of", "label_of"]
