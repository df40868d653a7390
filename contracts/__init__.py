"""Contracts: every message that crosses the Temporal boundary, shared by workflows, activities, the API and
pure rules (letters/, screening/), split by topic (README "Layout"). One model per workflow input, signal, update,
query and result. The Pydantic converter stores no class path in a payload, so a model may move between modules;
add fields with defaults only: recorded histories still decode against these definitions (tests/test_replay.py).

Depends only on pure packages of ours (outcomes, clock, policy, workcalendar, proactive.rules); never import
activities/, db/, api/, services/ or workflows/ from here (tests/test_architecture.py).
"""
