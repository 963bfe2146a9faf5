"""Waking idle workers across processes: PostgreSQL LISTEN/NOTIFY (adapters/db/wake.py).

The "other process" is a second SQLAlchemy engine on the same database: it commits a
mark-due, and the reconciler running in this loop (its own engine, idle, its safety poll
30 s away) must claim the link well before that poll. The reconciler's pass is replaced by
a recorder: what is under test is the wake and the claim, not the reconciliation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from orderbridge.adapters.db import (
    connections,
    generate_key,
    link_leases,
    links,
    make_engine,
    transaction,
    wake,
)
from orderbridge.bootstrap import Services
from orderbridge.clock import ManualClock
from orderbridge.engine import worker
from orderbridge.engine.worker import Reconciler
from orderbridge.settings import Settings

from .conftest import T0

PG = [pytest.param("postgresql", marks=pytest.mark.postgres)]
# A failure bound only (the wake takes milliseconds); well under the safety poll.
WAKE_TIMEOUT_SECONDS = 10.0


class RecordingReconciler(Reconciler):
    """Claims as in production; records each claimed batch instead of working it, and
    says when its claimer goes idle."""

    def __init__(self, services: Services) -> None:
        super().__init__(services, "waker", batch=50)
        self.claimed: list[str] = []
        self.got = asyncio.Event()
        self.idle = asyncio.Event()

    async def _work(self, owner: str, batch: worker._Claimed, done: Callable[[], None] = lambda: None) -> None:
        self.claimed.extend(row.tiktok_order_id for row in batch.rows)
        self.got.set()

    async def _idle_seconds(self) -> float:
        seconds = await super()._idle_seconds()
        self.idle.set()
        return seconds


@pytest.fixture
async def services(migrated_db_url: str) -> AsyncIterator[Services]:
    settings = Settings(database_url=migrated_db_url, secret_key=generate_key(), workers=2)
    svc = Services.create(settings, clock=ManualClock(T0), migrate_db=False)
    try:
        yield svc
    finally:
        await svc.aclose()


@pytest.fixture
def other_process(migrated_db_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_db_url)
    yield engine
    engine.dispose()


def _connection(services: Services) -> int:
    with transaction(services.db) as conn:
        return connections.create_connection(
            conn, services.cipher, name="c", tiktok_shop_id="7000000009",
            shopify_domain="wake.myshopify.com", now=T0).id


@pytest.mark.parametrize("db_url", PG, indirect=True)
async def test_an_idle_worker_is_woken_by_a_mark_due_committed_elsewhere(
        services: Services, other_process: Engine) -> None:
    cid = _connection(services)
    with transaction(services.db) as conn:  # a link that waits for a hint
        link, _ = links.get_or_create_link(conn, cid, "o-1", T0)
        [held] = link_leases.claim_due_links(conn, "setup", T0, limit=1, lease_seconds=1)
        assert link_leases.release_lease(conn, held, "setup", next_due_at=None)
    reconciler = RecordingReconciler(services)
    assert reconciler.listen
    assert reconciler.pacing == worker.CLAIM_PACING_SECONDS
    stop, listening = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(reconciler.run_forever(stop, listening=listening))
    try:
        await asyncio.wait_for(listening.wait(), WAKE_TIMEOUT_SECONDS)
        reconciler.idle.clear()
        await asyncio.wait_for(reconciler.idle.wait(), WAKE_TIMEOUT_SECONDS)
        assert await reconciler._idle_seconds() == worker.SAFETY_POLL_SECONDS  # nothing due: the long poll
        assert reconciler.claimed == []
        began = time.monotonic()
        with transaction(other_process) as conn:
            assert links.mark_due(conn, T0, ids=[link.id]) == 1
        await asyncio.wait_for(reconciler.got.wait(), WAKE_TIMEOUT_SECONDS)
        assert reconciler.claimed == ["o-1"]
        assert time.monotonic() - began < worker.SAFETY_POLL_SECONDS / 3
        # A new due link made elsewhere (what a webhook in a web process does) wakes it too.
        reconciler.got.clear()
        with transaction(other_process) as conn:
            links.ensure_due(conn, cid, ["o-2"], T0, T0)
        await asyncio.wait_for(reconciler.got.wait(), WAKE_TIMEOUT_SECONDS)
        assert reconciler.claimed == ["o-1", "o-2"]
    finally:
        stop.set()
        await asyncio.wait_for(task, WAKE_TIMEOUT_SECONDS)


@pytest.mark.parametrize("db_url", PG, indirect=True)
async def test_announcements_are_delivered_on_commit_once_and_never_on_rollback(
        migrated_db_url: str, other_process: Engine) -> None:
    conninfo = make_url(migrated_db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as listener:
        await listener.execute(f"LISTEN {wake.DUE_CHANNEL}")
        conn = other_process.connect()
        with conn.begin() as rolled_back:
            wake.announce_due(conn)
            rolled_back.rollback()
        conn.close()
        with transaction(other_process) as conn:  # twice in one transaction
            wake.announce_due(conn)
            wake.announce_due(conn)
        with transaction(other_process) as conn:  # a marker: everything before it came first
            conn.execute(text(f"SELECT pg_notify('{wake.DUE_CHANNEL}', 'marker')"))
        payloads: list[str] = []

        async def collect() -> None:
            async for note in listener.notifies():
                payloads.append(note.payload)
                if note.payload == "marker":
                    return

        await asyncio.wait_for(collect(), WAKE_TIMEOUT_SECONDS)
    assert payloads == ["", "marker"]


@pytest.mark.parametrize("db_url", PG, indirect=True)
async def test_a_listener_reconnects_and_looks_once_after_losing_its_connection(
        migrated_db_url: str, other_process: Engine) -> None:
    engine = make_engine(migrated_db_url)
    looks = asyncio.Queue[None]()
    listening = asyncio.Event()
    task = asyncio.create_task(wake.listen_for_due(engine, lambda: looks.put_nowait(None), listening=listening))
    try:
        await asyncio.wait_for(listening.wait(), WAKE_TIMEOUT_SECONDS)
        await asyncio.wait_for(looks.get(), WAKE_TIMEOUT_SECONDS)  # the look after connecting
        listening.clear()
        with transaction(other_process) as conn:  # the listener's connection is killed
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN%'"))
        await asyncio.wait_for(listening.wait(), WAKE_TIMEOUT_SECONDS)
        await asyncio.wait_for(looks.get(), WAKE_TIMEOUT_SECONDS)  # the look after reconnecting
        with transaction(other_process) as conn:
            wake.announce_due(conn)
        await asyncio.wait_for(looks.get(), WAKE_TIMEOUT_SECONDS)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        engine.dispose()
