"""Errors raised by the database adapter.

    OrderBridgeError
    ├── LeaseLost           a save or release by a worker that no longer holds the row
    ├── AlreadyExists       a row with that unique name or remote id exists
    └── ConfigurationError
        └── SchemaMismatch  the database schema is not the one this code expects

Failures of the database itself keep the driver's types, named here so that callers outside
this package catch them without importing SQLAlchemy: ``DatabaseError`` (any failure of the
database layer) and its ``DriverError`` (the driver or the server refused: unreachable,
missing database, read-only file; ``.orig`` is the driver's own exception).
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError as DriverError
from sqlalchemy.exc import SQLAlchemyError as DatabaseError

from orderbridge.errors import ConfigurationError, OrderBridgeError

__all__ = ["AlreadyExists", "DatabaseError", "DriverError", "LeaseLost", "SchemaMismatch"]


class LeaseLost(OrderBridgeError):
    """The lease on this row was lost (expired and taken) or its version moved on."""


class AlreadyExists(OrderBridgeError):
    """A row with the same unique name or remote id already exists."""


class SchemaMismatch(ConfigurationError):
    """The database schema is not at the revision this code expects: run `orderbridge db upgrade`."""
