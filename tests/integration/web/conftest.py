"""The web app and the connect/SKU engine on both databases.

- ``services``: ``Services`` on a migrated database (sqlite and postgresql), a manual
  clock, fixed TikTok app credentials and Shopify client secret (webhook tests).
- ``client``: the app served in-process (``httpx.ASGITransport``), with no credentials.
- ``api``: the same app with an operator's API token (``token_for`` makes others).
- ``live`` / ``serve_app(services)``: the app over real HTTP (uvicorn on a free port).
- ``sandbox_services``: ``Services`` whose settings point at the served sandboxes and whose
  clock is the sandbox's (TikTok signatures are time-bound), for connect/SKU tests.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection

from orderbridge.adapters.db import generate_key, transaction
from orderbridge.adapters.db.grants import connection_ids, grant_connection
from orderbridge.adapters.db.operators import Role, add_user, create_token, find_user, list_users
from orderbridge.bootstrap import Services
from orderbridge.cli.runner import WebServer
from orderbridge.clock import ManualClock
from orderbridge.engine.connect import sandbox_settings
from orderbridge.sandbox.runner import RunningSandboxes
from orderbridge.settings import Settings
from orderbridge.web.app import create_app
from tests.integration.sandboxes.conftest import T0, served  # noqa: F401  (fixture)

APP_KEY = "test_app_key"
APP_SECRET = "test_app_secret"
SHOPIFY_SECRET = "shpss_test_secret"
NOW = datetime(2026, 11, 16, 18, 0, tzinfo=UTC)
MAX_BODY = 4096


def _settings(db_url: str, **overrides: Any) -> Settings:
    return Settings(database_url=db_url, secret_key=generate_key(), base_url="http://orderbridge.test",
                    webhook_max_body_bytes=MAX_BODY, **overrides)


@pytest.fixture
async def services(migrated_db_url: str) -> AsyncIterator[Services]:
    settings = _settings(migrated_db_url, tiktok_app_key=APP_KEY, tiktok_app_secret=APP_SECRET,
                         shopify_client_secret=SHOPIFY_SECRET)
    svc = Services.create(settings, clock=ManualClock(NOW), migrate_db=False)
    try:
        yield svc
    finally:
        await svc.aclose()


def token_for(services: Services, role: Role, *, name: str | None = None, days: float = 30) -> str:
    """A fresh API token of a user with ``role`` (the user is created if new)."""
    now = services.clock.now()
    user_name = name or f"{role.value}-user"
    with transaction(services.db) as conn:
        user = find_user(conn, user_name) or add_user(conn, user_name, role, now=now)
        token, _ = create_token(conn, user, "test", now=now, expires_at=now + timedelta(days=days))
        grant_every_connection(conn, services)
    return token


def grant_every_connection(conn: Connection, services: Services) -> None:
    """Grant every connection to every user (viewers and operators see only what they are
    granted; tests that are not about that see everything)."""
    now = services.clock.now()
    for user in list_users(conn):
        for cid in connection_ids(conn):
            grant_connection(conn, user.id, cid, now=now)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(services))
    async with httpx.AsyncClient(transport=transport, base_url="http://orderbridge.test") as http:
        yield http


@pytest.fixture
async def api(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(services))
    headers = bearer(token_for(services, Role.OPERATOR, name="olive", days=3650))
    async with httpx.AsyncClient(transport=transport, base_url="http://orderbridge.test", headers=headers) as http:
        yield http


@asynccontextmanager
async def serve_app(services: Services, workers: Callable[[], str | None] | None = None,
                 headers: dict[str, str] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """The app over real HTTP: uvicorn on a free port, and a client for it."""
    web = WebServer(create_app(services, workers=workers), "127.0.0.1", 0)
    port = await web.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10,
                                     headers=headers) as http:
            yield http
    finally:
        await web.stop()


@pytest.fixture
async def live(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """``services``' app over real HTTP, with no credentials."""
    async with serve_app(services) as http:
        yield http


@dataclass
class SandboxKit:
    services: Services
    info: dict[str, Any]
    running: RunningSandboxes


@pytest.fixture
async def sbx(migrated_db_url: str, served: RunningSandboxes) -> AsyncIterator[SandboxKit]:  # noqa: F811
    info = served.info()
    settings = _settings(migrated_db_url, **sandbox_settings(info))
    svc = Services.create(settings, clock=served.world.clock, migrate_db=False)
    try:
        yield SandboxKit(svc, info, served)
    finally:
        await svc.aclose()
