"""``/readyz`` over real HTTP (uvicorn on a free port), on both databases (issue 8, item 3).

Ready only when the database is writable, migrations are current, the secret key opens
every active connection's tokens and (where they run) the workers heartbeat. The public
answer is ``{"ready": bool}`` and nothing else; the reasons are on ``/api/readiness``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import psycopg
from sqlalchemy import make_url

from orderbridge.adapters.db import connections, generate_key, migrate, transaction
from orderbridge.adapters.db.operators import Role
from orderbridge.bootstrap import Services
from orderbridge.cli.runner import WORKER_HEARTBEAT_STALE_SECONDS, _workers_alive
from orderbridge.clock import ManualClock
from orderbridge.engine.poller import Poller
from orderbridge.settings import Settings

from .conftest import NOW, bearer, serve_app, token_for


def _services(url: str, key: str) -> Services:
    settings = Settings(database_url=url, secret_key=key, base_url="http://127.0.0.1")
    return Services.create(settings, clock=ManualClock(NOW), migrate_db=False)


def _connect_shop(services: Services) -> None:
    with transaction(services.db) as conn:
        connections.create_connection(
            conn, services.cipher, name="shop", tiktok_shop_id="7001", shopify_domain="shop.myshopify.com",
            now=NOW, tiktok_access_token="tt-access", tiktok_refresh_token="tt-refresh",
            shopify_token="shpat_x",
        )


async def _ready(http: httpx.AsyncClient) -> tuple[int, Any]:
    response = await http.get("/readyz")
    return response.status_code, response.json()


async def test_healthy_is_ready(migrated_db_url: str) -> None:
    services = _services(migrated_db_url, generate_key())
    try:
        _connect_shop(services)
        async with serve_app(services, workers=lambda: None) as http:
            assert await _ready(http) == (200, {"ready": True})
    finally:
        await services.aclose()


async def test_a_wrong_secret_key_is_not_ready_and_says_why_only_in_private(migrated_db_url: str) -> None:
    first = _services(migrated_db_url, generate_key())
    _connect_shop(first)
    await first.aclose()
    services = _services(migrated_db_url, generate_key())  # the key was changed
    try:
        token = token_for(services, Role.VIEWER)
        async with serve_app(services) as http:
            assert await _ready(http) == (503, {"ready": False})  # no details in public
            private = await http.get("/api/readiness", headers=bearer(token))
            assert private.status_code == 503
            assert "key changed?" in private.json()["problems"]["secret_key"]
            assert (await http.get("/api/readiness")).status_code == 401
    finally:
        await services.aclose()


def _read_only_url(url: str) -> str:
    """The same database, read-only for every session of the app."""
    if url.startswith("sqlite"):
        # The tests run as root, whom chmod 0444 does not stop: open it read-only instead.
        path = make_url(url).database
        return f"sqlite:///file:{path}?mode=ro&uri=true"
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{parsed.database}" SET default_transaction_read_only = on')
    return url


async def test_a_read_only_database_is_not_ready_and_says_why_in_private(migrated_db_url: str) -> None:
    writable = _services(migrated_db_url, generate_key())
    token = token_for(writable, Role.VIEWER)  # never used yet: its first use wants a write
    await writable.aclose()
    services = _services(_read_only_url(migrated_db_url), generate_key())
    try:
        async with serve_app(services, workers=lambda: None) as http:
            assert await _ready(http) == (503, {"ready": False})
            private = await http.get("/api/readiness", headers=bearer(token))
        assert private.status_code == 503  # not a 500: the token's last use is not recorded
        body = private.json()
        assert body["ready"] is False
        assert set(body["problems"]) == {"database_writable"}
        assert "read" in body["problems"]["database_writable"].lower()
    finally:
        await services.aclose()


async def test_migrations_behind_is_not_ready(migrated_db_url: str) -> None:
    migrate.downgrade(migrated_db_url, "-1")
    services = _services(migrated_db_url, generate_key())
    try:
        async with serve_app(services) as http:
            assert await _ready(http) == (503, {"ready": False})
    finally:
        await services.aclose()


async def test_stale_workers_are_not_ready(migrated_db_url: str) -> None:
    services = _services(migrated_db_url, generate_key())
    try:
        async with serve_app(services, workers=lambda: "no poller pass for 300 s") as http:
            assert await _ready(http) == (503, {"ready": False})
    finally:
        await services.aclose()


async def test_the_runner_heartbeat_check_follows_the_poller(migrated_db_url: str) -> None:
    services = _services(migrated_db_url, generate_key())
    try:
        poller = Poller(services, "heartbeat-test")
        task = asyncio.get_running_loop().create_future()
        tasks: list[Any] = [_NamedFuture(task)]
        assert _workers_alive(poller, tasks) is None  # started, first pass under way
        await poller.poll_due()
        assert _workers_alive(poller, tasks) is None
        assert poller.last_pass_monotonic is not None
        poller.last_pass_monotonic -= WORKER_HEARTBEAT_STALE_SECONDS + 1  # a stuck loop
        assert "no poller pass" in (_workers_alive(poller, tasks) or "")
        task.set_result(None)  # a worker task died
        assert "stopped" in (_workers_alive(poller, tasks) or "")
        assert _workers_alive(Poller(services, "fresh"), []) == "workers not started"
    finally:
        await services.aclose()


class _NamedFuture:
    """A stand-in for an asyncio task: ``done`` and ``get_name`` are all the check reads."""

    def __init__(self, future: asyncio.Future[None]) -> None:
        self.future = future

    def done(self) -> bool:
        return self.future.done()

    def get_name(self) -> str:
        return "reconciler"
