"""I/O: every activity the workflows run. The activity class lives in activities.disclosure.

Kept import-free so that pure modules could use activities.models (now contracts.models) without pulling in the database
and SMTP code (and without an import cycle through letters).
"""
