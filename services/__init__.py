"""Domain services: the operations that the HTTP API and the admin command both perform.

A service takes plain values and the process's resources (engine, Temporal client, settings), does
the work, and raises its own errors (never an HTTP exception): the routes map them to 4xx, the
command prints them. It depends on db/, workflows/ and the pure packages, never on api/.
"""
