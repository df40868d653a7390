"""Every workflow's retry policies and activity timeouts, defined once (issue 21 point 4).

Each names what it retries and what it must not: an activity raises `ApplicationError(..., non_retryable=True)` for
an error no retry can mend (a letter missing what the law requires, an address the mail server refuses, a letter
not in the outbox); the error types are listed here too, so a policy never retries them whoever raised them.
"""

from datetime import timedelta

from temporalio.common import RetryPolicy

# The time one ordinary activity (a database write, composing a letter, an alert) may take.
ACTIVITY_TIMEOUT = timedelta(seconds=30)

# Errors no retry can mend (raised by activities/): a letter missing what the law requires (letters/compose.py
# LetterInputError), a refused message or address, a letter not in the outbox, a stored file whose checksum fails.
NEVER_RETRIED = ["LetterInputError", "SmtpRefused", "UnknownLetter", "ChecksumMismatch", "ActionNotAllowed"]

# Our own database: keep trying, an outage must not lose a record.
DATABASE = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1),
                       non_retryable_error_types=NEVER_RETRIED)
# A pure computation (composing a letter's text): a few tries for a worker lost meanwhile, never forever.
PURE = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30), maximum_attempts=10,
                   non_retryable_error_types=NEVER_RETRIED)
# Letters to the mail server: back off up to five minutes (workflows/delivery.py sends in bounded rounds).
DISPATCH = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=5),
                       non_retryable_error_types=NEVER_RETRIED)
# Reading pages of our own database for a broadcast: keep trying, at most a minute apart.
READ = RetryPolicy(maximum_interval=timedelta(minutes=1))
# A courtesy e-mail (an inquiry's answer to the asker): tried for about a day, then staff are told.
COURTESY_MAIL = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(hours=1),
                            maximum_attempts=30)
