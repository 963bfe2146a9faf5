"""The web app's guard: which requests get in, and who they come from.

Two surfaces (docs/security.md). Public: ``/webhooks/*`` (signed by the vendors),
``/oauth/*`` (signed state), ``/healthz`` and ``/readyz``. Private: everything else (the
JSON API, ``/docs``, ``/openapi.json``) only with an operator's API token.

``SecurityMiddleware`` wraps the whole app (pure ASGI, so it sees every request first):

- ``Host`` must be a trusted host (``Settings.trusted_hosts``): 400 otherwise, so a
  DNS-rebinding page cannot talk to an instance on a private network (health checks are
  exempt: orchestrators probe by address).
- Bodies are bounded: ``webhook_max_body_bytes`` on webhooks, ``api_max_body_bytes``
  everywhere else; 413 once the declared or received size passes it, before any parsing.
  JSON bodies of the private surface nested deeper than ``max_json_depth``: 400.
- State-changing methods from a browser (``Origin`` or ``Sec-Fetch-Site`` saying another
  site) are refused with 403 unless the origin is this app's or a configured CORS origin.
- Every response carries ``nosniff``, ``frame-ancestors 'none'``, ``no-referrer``; private
  and OAuth responses are ``no-store``.
- Every state-changing request to the private surface is written to the audit log with
  who made it (or ``anonymous`` when refused) and the status it got.

``Authenticator`` is the FastAPI dependency of the private routes: a Bearer token, checked
against the stored hashes, with the role the route needs; failed checks are counted per
client and answered 429 past ``auth_failures_per_minute``.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orderbridge.adapters.db import DatabaseError, Principal, Role, operators, run_sync, transaction
from orderbridge.clock import Clock
from orderbridge.engine.ports import Store
from orderbridge.web.limits import json_too_deep
from orderbridge.web.problems import problem

__all__ = ["PUBLIC_PREFIXES", "Authenticator", "FailureLimiter", "SecurityMiddleware"]

PUBLIC_PREFIXES: Final = ("/webhooks/", "/oauth/", "/healthz", "/readyz")
WEBHOOK_PREFIX: Final = "/webhooks/"
HEALTH_PATHS: Final = frozenset({"/healthz", "/readyz"})
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FAILURE_WINDOW: Final = timedelta(minutes=1)
# Clients whose failures are remembered at once; beyond it the oldest are forgotten
# (bounded memory under a spray of source addresses).
MAX_TRACKED_CLIENTS: Final = 10_000
# Writing ``last_used_at`` on every request would make every read a write.
TOKEN_TOUCH_INTERVAL: Final = timedelta(minutes=1)
_BASE_HEADERS: Final = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
)
_CSP_JSON: Final = b"default-src 'none'; frame-ancestors 'none'"
_CSP_PAGES: Final = b"frame-ancestors 'none'"  # /docs loads Swagger UI's script and styles
# The dashboard: its own stylesheet and forms, no script, no frames.
_CSP_DASHBOARD: Final = (b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                         b"frame-ancestors 'none'; base-uri 'none'")
log = logging.getLogger(__name__)


def _policies(path: str) -> list[tuple[bytes, bytes]]:
    """Content-Security-Policy and Referrer-Policy for ``path``. The dashboard's pages say
    ``same-origin``: with ``no-referrer`` a browser sends ``Origin: null`` on their own form
    posts, which the origin check (rightly) refuses."""
    if path == "/dashboard" or path.startswith("/dashboard/"):
        return [(b"content-security-policy", _CSP_DASHBOARD), (b"referrer-policy", b"same-origin")]
    csp = _CSP_PAGES if path == "/docs" else _CSP_JSON
    return [(b"content-security-policy", csp), (b"referrer-policy", b"no-referrer")]


def is_public(path: str) -> bool:
    """True for routes anyone may reach (their own checks still apply)."""
    return path.startswith(PUBLIC_PREFIXES)


def _host_allowed(host: str, trusted: tuple[str, ...]) -> bool:
    name = host.strip().lower()
    if name.startswith("["):  # [::1]:8000
        name = name.split("]", 1)[0] + "]"
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    for pattern in trusted:
        if pattern == "*" or name == pattern or (pattern.startswith("*.") and name.endswith(pattern[1:])):
            return True
    return False


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class FailureLimiter:
    """Failed token checks per client in a sliding window (one process's memory)."""

    def __init__(self, clock: Clock, per_minute: int) -> None:
        self.clock, self.limit = clock, per_minute
        self._failures: dict[str, deque[datetime]] = {}

    def _recent(self, client: str) -> deque[datetime]:
        seen = self._failures.get(client, deque())
        cutoff = self.clock.now() - FAILURE_WINDOW
        while seen and seen[0] <= cutoff:
            seen.popleft()
        return seen

    def blocked(self, client: str) -> bool:
        """True when ``client`` spent its failures for this window."""
        return len(self._recent(client)) >= self.limit

    def failed(self, client: str) -> None:
        """Count one failure of ``client``."""
        seen = self._recent(client)
        seen.append(self.clock.now())
        self._failures.pop(client, None)
        self._failures[client] = seen  # re-inserted: the dict's order is least recently failed first
        while len(self._failures) > MAX_TRACKED_CLIENTS:
            self._failures.pop(next(iter(self._failures)))


def client_of(request: Request) -> str:
    """The client's address as the server saw it (behind a proxy: see docs/security.md)."""
    return request.client.host if request.client else "unknown"


class Authenticator:
    """``Depends(auth.require(Role.X))``: the Bearer token's principal, or 401/403/429."""

    def __init__(self, services: Store) -> None:
        self.services = services
        self.limiter = FailureLimiter(services.clock, services.settings.auth_failures_per_minute)
        self.scheme = HTTPBearer(auto_error=False, description="an API token: `orderbridge token create`")

    def require(self, role: Role) -> Callable[..., Awaitable[Principal]]:
        """A dependency that lets through principals whose role allows ``role``."""
        scheme = self.scheme

        async def dependency(request: Request, credentials: Any = Depends(scheme)) -> Principal:  # noqa: B008
            principal = await self.check(request, credentials)
            if not principal.role.allows(role):
                raise HTTPException(403, f"{principal.name} is {principal.role.value}; this needs {role.value}")
            return principal

        return dependency

    async def check(self, request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
        client = client_of(request)
        if self.limiter.blocked(client):
            raise HTTPException(429, "too many failed token checks: wait a minute",
                                headers={"Retry-After": str(int(FAILURE_WINDOW.total_seconds()))})
        challenge = {"WWW-Authenticate": 'Bearer realm="orderbridge"'}
        if credentials is None:
            raise HTTPException(401, "an API token is required (Authorization: Bearer …)", headers=challenge)
        now = self.services.clock.now()
        principal = await run_sync(self.services.db, _authenticate, self.services, credentials.credentials, now)
        if principal is None:
            self.limiter.failed(client)
            raise HTTPException(401, "the token is unknown, expired or revoked", headers=challenge)
        request.state.principal = principal
        return principal


def _authenticate(services: Store, token: str, now: datetime) -> Principal | None:
    with transaction(services.db, write=False) as conn:
        principal = operators.authenticate(conn, token, now=now)
    if principal is not None and principal.token_id is not None and (
            principal.last_used_at is None or now - principal.last_used_at >= TOKEN_TOUCH_INTERVAL):
        try:
            with transaction(services.db) as conn:
                operators.touch_token(conn, principal.token_id, now=now)
        except DatabaseError as exc:  # bookkeeping: a read-only database still serves reads
            log.warning("could not record the use of token %s (database read-only?): %s",
                        principal.token_id, str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)
    return principal


def _record(services: Store, scope: Scope, status: int, principal: Principal | None) -> None:
    client = scope.get("client")
    path = scope.get("path", "")
    query = scope.get("query_string", b"").decode("latin-1")
    with transaction(services.db) as conn:
        operators.audit(conn, at=services.clock.now(), actor=principal.name if principal else "anonymous",
                        method=str(scope.get("method", "")), path=f"{path}?{query}" if query else path,
                        status=status, user_id=principal.user_id if principal else None,
                        token_id=principal.token_id if principal else None,
                        client=str(client[0]) if client else None)


class SecurityMiddleware:
    """Trusted hosts, body bounds, origin checks, security headers, the audit log."""

    def __init__(self, app: ASGIApp, services: Store) -> None:
        self.app, self.services = app, services
        s = services.settings
        self.trusted = s.trusted_hosts
        self.origins = frozenset({_origin(s.base_url), *(o.lower() for o in s.cors_origin_list)})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if path not in HEALTH_PATHS and not _host_allowed(host, self.trusted):
            await problem(400, "untrusted Host header")(scope, receive, send)
            return
        unsafe = method not in SAFE_METHODS
        if unsafe and not path.startswith(WEBHOOK_PREFIX) and not self._same_site(headers, host, scope):
            await self._refuse(scope, receive, send, 403, "cross-site request refused (Origin)", unsafe)
            return
        s = self.services.settings
        limit = s.webhook_max_body_bytes if path.startswith(WEBHOOK_PREFIX) else s.api_max_body_bytes
        body = await _read_bounded(receive, headers.get("content-length", ""), limit)
        if body is None:
            await self._refuse(scope, receive, send, 413, f"body larger than {limit} bytes", unsafe)
            return
        if not is_public(path) and body and json_too_deep(body, s.max_json_depth):
            await self._refuse(scope, receive, send, 400, f"JSON nested deeper than {s.max_json_depth}", unsafe)
            return
        scope.setdefault("state", {})
        status = await self._serve(scope, _replay(body, receive), send, path)
        if unsafe and not is_public(path):
            await self._audit(scope, status, scope["state"].get("principal"))

    def _same_site(self, headers: dict[str, str], host: str, scope: Scope) -> bool:
        origin = headers.get("origin")
        if origin is None or origin == "null":
            # No Origin: not a browser (or an old one); Sec-Fetch-Site still tells a cross-site form.
            return origin is None and headers.get("sec-fetch-site", "same-origin") in {"same-origin", "none"}
        own = f"{scope.get('scheme', 'http')}://{host}".lower()
        return origin.rstrip("/").lower() in self.origins | {own}

    async def _serve(self, scope: Scope, receive: Receive, send: Send, path: str) -> int:
        status = {"code": 500}
        private = not path.startswith(("/webhooks/", "/healthz", "/docs"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
                extra = list(_BASE_HEADERS)
                extra += _policies(path)
                if private:
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
        return status["code"]

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, detail: str,
                      unsafe: bool) -> None:
        await problem(status, detail)(scope, receive, send)
        if unsafe and not is_public(scope.get("path", "")):
            await self._audit(scope, status, None)

    async def _audit(self, scope: Scope, status: int, principal: Principal | None) -> None:
        try:
            await run_sync(self.services.db, _record, self.services, scope, status, principal)
        except Exception:  # the answer is already sent; a lost audit row must be visible in the log
            log.exception("could not write the audit log")


async def _read_bounded(receive: Receive, declared: str, limit: int) -> bytes | None:
    """The whole body, or None once it is (or says it is) larger than ``limit``."""
    if declared.strip().isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands out ``body`` once, then defers to the real one (disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
