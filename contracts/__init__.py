"""Contracts: every message that crosses the Temporal boundary, shared by workflows, activities, the API and
pure rules (letters/, screening/), split by topic (README "Layout").

Depends only on pure packages of ours (outcomes, clock, policy, workcalendar, proactive.rules); never import
activities/, db/, api/, services/ or workflows/ from here (tests/test_architecture.py).
"""
