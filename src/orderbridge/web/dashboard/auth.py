"""Who is looking at the dashboard: sign-in, sessions, CSRF tokens.

A session cookie (``ob_session``: HttpOnly, SameSite=Lax, Secure when ``base_url`` is
https) stands for a row of ``web_sessions``; every form carries the session's CSRF token and
a POST without the right one is refused (403), on top of the Origin check every unsafe
request passes in ``SecurityMiddleware``. Sign-in failures are rate limited per client
address and per user name, and an unknown name costs the same time as a wrong password.
"""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Final
from urllib.parse import quote, urlsplit

from fastapi import HTTPException, Request

from orderbridge.adapters.db import run_sync, transaction
from orderbridge.adapters.db.operators import Role
from orderbridge.adapters.db.web_sessions import (
    SessionRow,
    create_session,
    password_hash,
    revoke_session,
    session_principal,
    set_password_hash,
)
from orderbridge.engine.ports import Store
from orderbridge.web import passwords
from orderbridge.web.security import FailureLimiter, client_of

__all__ = ["COOKIE", "LOGIN_PATH", "NeedsSignIn", "SessionAuth", "safe_next"]

COOKIE: Final = "ob_session"
LOGIN_PATH: Final = "/dashboard/login"
HOME: Final = "/dashboard"


class NeedsSignIn(Exception):
    """No valid session: the page redirects to the sign-in form (and back after)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def safe_next(value: str | None) -> str:
    """Where to go after sign-in: only a dashboard path of this site (never another host)."""
    if not value:
        return HOME
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith(HOME) or "\\" in value:
        return HOME
    return value


@dataclass(frozen=True, slots=True)
class SignIn:
    """A successful sign-in: the cookie value to set and the session's lifetime."""

    token: str
    max_age: int


class SessionAuth:
    """Sessions of the dashboard for one app (one process)."""

    def __init__(self, services: Store) -> None:
        self.services = services
        s = services.settings
        self.lifetime = timedelta(hours=s.session_hours)
        self.idle = timedelta(minutes=s.session_idle_minutes)
        self.secure = s.base_url.lower().startswith("https://")
        self.by_client = FailureLimiter(services.clock, s.auth_failures_per_minute)
        self.by_name = FailureLimiter(services.clock, s.auth_failures_per_minute)

    async def session(self, request: Request) -> SessionRow | None:
        """The request's live session, or None."""
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        now = self.services.clock.now()

        def read() -> SessionRow | None:
            with transaction(self.services.db) as conn:
                return session_principal(conn, token, now=now, idle=self.idle)

        found = await run_sync(self.services.db, read)
        if found is not None:
            request.state.principal = found.principal  # the audit log names who did it
        return found

    async def require(self, request: Request, role: Role) -> SessionRow:
        """The session, or NeedsSignIn (no session) / 403 (role too low)."""
        found = await self.session(request)
        if found is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise NeedsSignIn(target)
        if not found.principal.role.allows(role):
            raise HTTPException(403, f"{found.principal.name} is {found.principal.role.value}; "
                                     f"this needs {role.value}")
        return found

    @staticmethod
    def check_csrf(found: SessionRow, sent: str | None) -> None:
        """403 unless the form carried this session's CSRF token."""
        if not sent or not hmac.compare_digest(sent.encode(), found.csrf_token.encode()):
            raise HTTPException(403, "the form is stale or not ours (CSRF token): reload the page")

    async def sign_in(self, request: Request, name: str, password: str) -> SignIn | None:
        """A new session for a right name and password; None otherwise (counted). 429 when
        the client or the name spent its failures for this minute."""
        client, key = client_of(request), name.strip().lower()[:200]
        if self.by_client.blocked(client) or self.by_name.blocked(key):
            raise HTTPException(429, "too many failed sign-ins: wait a minute", headers={"Retry-After": "60"})
        now = self.services.clock.now()

        def stored() -> tuple[int, str | None] | None:
            with transaction(self.services.db, write=False) as conn:
                return password_hash(conn, name.strip())

        def start(user_id: int, fresh: str | None) -> str:
            with transaction(self.services.db) as conn:
                if fresh is not None:
                    set_password_hash(conn, user_id, fresh, now=now)
                token, _csrf = create_session(conn, user_id, now=now, lifetime=self.lifetime, client=client)
            return token

        found = await run_sync(self.services.db, stored)
        # argon2 takes tens of milliseconds: off the event loop and off SQLite's one thread.
        ok, fresh = await asyncio.to_thread(passwords.check, found[1] if found else None, password)
        token = await run_sync(self.services.db, start, found[0], fresh) if ok and found else None
        if token is None:
            self.by_client.failed(client)
            self.by_name.failed(key)
            return None
        return SignIn(token=token, max_age=int(self.lifetime.total_seconds()))

    async def sign_out(self, found: SessionRow) -> None:
        """End the session."""
        now = self.services.clock.now()

        def end() -> None:
            with transaction(self.services.db) as conn:
                revoke_session(conn, found.id, now=now)

        await run_sync(self.services.db, end)


def login_url(path: str) -> str:
    """The sign-in page that comes back to ``path``."""
    return f"{LOGIN_PATH}?next={quote(safe_next(path), safe='/')}"

