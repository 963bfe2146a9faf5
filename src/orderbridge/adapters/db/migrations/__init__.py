"""Alembic environment of OrderBridge (run through orderbridge.adapters.db.migrate)."""
