"""Decision guidance for the handler (issue 11 point 15): the practitioners' questions in order. Pure.

补不补 → 是不是 → 谁负责 → 有没有 → 给不给 → 怎么给 → 怎么答: the answers propose one item's outcome and
draft its reasons and legal basis, which the handler can still edit before proposing.
"""

from guidance.rules import QUESTIONS, Answers, Guidance, Step, propose

__all__ = ["QUESTIONS", "Answers", "Guidance", "Step", "propose"]
