"""Alembic migrations of the project's own tables (db.models); applied by db.session.init_db at start-up."""
