"""Operators of the private surface: users, dashboard sessions, their connections, API
tokens and the audit log."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from orderbridge.adapters.db.tables.base import REMOTE_ID, connection_fk, id_column, metadata
from orderbridge.adapters.db.types import IdType, UTCDateTime

__all__ = ["api_tokens", "audit_log", "user_connections", "users", "web_sessions"]

# Operators of the private surface (docs/security.md): the API takes per-user tokens, the
# dashboard a password (argon2id hash; None: the user cannot sign in to the dashboard).
users = Table(
    "users",
    metadata,
    id_column(),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
    Column("password_hash", String(255)),
)

# Dashboard sessions: only the SHA-256 of the cookie's value is stored; the CSRF token is
# per session (every form carries it).
web_sessions = Table(
    "web_sessions",
    metadata,
    id_column(),
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("client", String(REMOTE_ID)),
)

# Which connections a user may see (dashboard and API); admins see every connection.
user_connections = Table(
    "user_connections",
    metadata,
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    connection_fk(nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("user_id", "connection_id"),
    Index("ix_user_connections_connection_id", "connection_id"),
)

# API tokens: only the SHA-256 of the token is stored (the token itself is shown once).
api_tokens = Table(
    "api_tokens",
    metadata,
    id_column(),
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
)

# Who did what, when: every state-changing request of the private surface, and the
# CLI's user/token commands. Kept when users are deleted (``actor`` keeps the name).
audit_log = Table(
    "audit_log",
    metadata,
    id_column(),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    Column("user_id", IdType, ForeignKey("users.id", ondelete="SET NULL")),
    Column("token_id", IdType, ForeignKey("api_tokens.id", ondelete="SET NULL")),
    Column("method", String(16), nullable=False),
    Column("path", Text, nullable=False),
    Column("status", Integer, nullable=False),
    Column("client", String(REMOTE_ID)),
)
