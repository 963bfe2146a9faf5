"""A worker-only process (``run --role worker``) serves ``/metrics`` and ``/healthz`` on
``metrics_port``, over real HTTP, on SQLite and PostgreSQL; without the setting it serves
nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from orderbridge.adapters.db import generate_key, operators, transaction
from orderbridge.adapters.db.operators import Role
from orderbridge.bootstrap import Services
from orderbridge.cli.runner import run
from orderbridge.settings import Settings


async def _worker(db_url: str, **extra: Any) -> tuple[Services, asyncio.Event, asyncio.Task[None], dict[str, Any]]:
    settings = Settings(database_url=db_url, secret_key=generate_key(), poll_interval_seconds=3600.0,
                        log_level="warning", **extra)
    services = Services.create(settings, migrate_db=False)
    stop, up, info = asyncio.Event(), asyncio.Event(), {}

    def ready(started: dict[str, Any]) -> None:
        info.update(started)
        up.set()

    task = asyncio.create_task(run(services, "worker", stop, ready=ready))
    await asyncio.wait_for(up.wait(), timeout=15)
    return services, stop, task, info


async def test_worker_serves_metrics_on_its_port(migrated_db_url: str) -> None:
    services, stop, task, info = await _worker(migrated_db_url, metrics_port=0)
    try:
        url = info["metrics"]
        assert url.endswith("/metrics")
        async with httpx.AsyncClient(timeout=10) as http:
            assert (await http.get(url.replace("/metrics", "/healthz"))).json() == {"status": "ok"}
            assert (await http.get(url)).status_code == 401  # the same private surface as the web app's
            now = services.clock.now()
            with transaction(services.db) as conn:
                viewer = operators.add_user(conn, "prometheus", Role.VIEWER, now=now)
                token, _ = operators.create_token(conn, viewer, "scrape", now=now, expires_at=now + timedelta(days=1))
            response = await http.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert "orderbridge_metrics_database_up 1.0" in response.text
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)
        await services.aclose()


async def test_worker_without_metrics_port_serves_nothing(migrated_db_url: str) -> None:
    services, stop, task, info = await _worker(migrated_db_url)
    try:
        assert "metrics" not in info
        assert "web" not in info
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)
        await services.aclose()
