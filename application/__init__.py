"""The application (申请) as pure functions of its state: the state itself (`state.py`), the rules that say whether an
action is allowed and what the application shows (`rules.py`, the `why_not_*` checks), and its deadlines (`deadlines.py`:
the reply period, the next wake-up, the recount on a published calendar year).

Pure and deterministic: the application workflow runs them (workflows/application*.py) and so does the calendar
recount activity, on the database copy (activities/calendar_recount.py). Imports only contracts/ and pure packages;
never workflows/, activities/, db/, api/ or services/ (tests/test_architecture.py).
"""
