"""Alembic migrations of the application database (run by breachops.store.database.upgrade)."""
