"""Dashboard sign-in: users' password hashes and browser sessions.

A session is ``obs_`` + 32 random bytes in an HttpOnly cookie; only its SHA-256 is stored,
with a per-session CSRF token that every form of the dashboard carries. A session lasts
``idle`` since it was last seen and never beyond its absolute expiry; signing out revokes
it, and disabling a user ends every session at once (checked on each request). The
password hash itself is computed outside (``web/passwords.py``, argon2id): this module
stores and returns it, never a password.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Connection, insert, select, update

from orderbridge.adapters.db.operators import Principal, Role, hash_token
from orderbridge.adapters.db.tables import users, web_sessions

__all__ = [
    "SESSION_PREFIX",
    "SessionRow",
    "create_session",
    "password_hash",
    "revoke_session",
    "session_principal",
    "set_password_hash",
]

SESSION_PREFIX: Final = "obs_"
SESSION_BYTES: Final = 32


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A signed-in browser: who, and the CSRF token its forms must carry."""

    id: int
    principal: Principal
    csrf_token: str
    expires_at: datetime
    last_seen_at: datetime


def set_password_hash(conn: Connection, user_id: int, digest: str | None, *, now: datetime) -> bool:
    """Store a user's password hash (None: no dashboard sign-in); False if no such user.
    Every session of the user ends: a new password signs everyone out."""
    done = conn.execute(update(users).where(users.c.id == user_id).values(password_hash=digest))
    conn.execute(update(web_sessions).where(web_sessions.c.user_id == user_id,
                                            web_sessions.c.revoked_at.is_(None))
                 .values(revoked_at=now))
    return bool(done.rowcount)


def password_hash(conn: Connection, name: str) -> tuple[int, str | None] | None:
    """(user id, password hash) of an enabled user named ``name``, or None."""
    row = conn.execute(select(users.c.id, users.c.password_hash, users.c.disabled_at)
                       .where(users.c.name == name)).first()
    if row is None or row.disabled_at is not None:
        return None
    return int(row.id), row.password_hash


def create_session(conn: Connection, user_id: int, *, now: datetime, lifetime: timedelta,
                   client: str | None = None) -> tuple[str, str]:
    """A new session for ``user_id``: (the cookie value, to send once; its CSRF token)."""
    token = SESSION_PREFIX + secrets.token_urlsafe(SESSION_BYTES)
    csrf = secrets.token_urlsafe(32)
    conn.execute(insert(web_sessions).values(
        user_id=user_id, token_hash=hash_token(token), csrf_token=csrf, created_at=now,
        expires_at=now + lifetime, last_seen_at=now, client=(client or "")[:255] or None))
    return token, csrf


def session_principal(conn: Connection, token: str, *, now: datetime, idle: timedelta) -> SessionRow | None:
    """The session a cookie stands for, or None (unknown, revoked, expired, idle too long,
    user disabled). A live session is marked seen now (sliding idle timeout)."""
    if not token.startswith(SESSION_PREFIX) or len(token) > 200:
        return None
    s, u = web_sessions, users
    row = conn.execute(
        select(s.c.id, s.c.csrf_token, s.c.expires_at, s.c.last_seen_at, s.c.revoked_at,
               u.c.id.label("user_id"), u.c.name, u.c.role, u.c.disabled_at)
        .join(u, u.c.id == s.c.user_id).where(s.c.token_hash == hash_token(token))
    ).first()
    if (row is None or row.revoked_at is not None or row.disabled_at is not None
            or row.expires_at <= now or row.last_seen_at + idle <= now):
        return None
    conn.execute(update(s).where(s.c.id == row.id).values(last_seen_at=now))
    principal = Principal(user_id=int(row.user_id), name=str(row.name), role=Role(row.role), token_id=None)
    return SessionRow(id=int(row.id), principal=principal, csrf_token=str(row.csrf_token),
                      expires_at=row.expires_at, last_seen_at=now)


def revoke_session(conn: Connection, session_id: int, *, now: datetime) -> bool:
    """Sign a session out; False if it was already."""
    done = conn.execute(update(web_sessions).where(web_sessions.c.id == session_id,
                                                   web_sessions.c.revoked_at.is_(None))
                        .values(revoked_at=now))
    return bool(done.rowcount)
