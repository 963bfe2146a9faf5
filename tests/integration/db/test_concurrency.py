"""Concurrent claimers and writers, on both dialects, with two engines (two "processes")."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import TypeVar

import pytest
from sqlalchemy import Engine

from orderbridge.adapters.db import (
    LeaseLost,
    inbox,
    jobs,
    leases,
    link_leases,
    links,
    make_engine,
    order_exceptions,
    transaction,
)

from .conftest import T0

R = TypeVar("R")
THREADS = 6


@pytest.fixture
def engines(migrated_db_url: str) -> Iterator[list[Engine]]:
    made = [make_engine(migrated_db_url), make_engine(migrated_db_url)]
    yield made
    for engine in made:
        engine.dispose()


def _race(engines: list[Engine], work: Callable[[Engine, int], R]) -> list[R]:
    """Run ``work`` in THREADS threads at once (alternating engines); return the results."""
    barrier = threading.Barrier(THREADS)
    results: list[R] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            barrier.wait()
            result = work(engines[i % len(engines)], i)
            with lock:
                results.append(result)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    if errors:
        raise errors[0]
    assert len(results) == THREADS
    return results


def test_concurrent_claims_never_share_a_link(engines: list[Engine], shop: int) -> None:
    total = 120
    with transaction(engines[0]) as conn:
        links.ensure_due(conn, shop, [f"o{i}" for i in range(total)], T0, T0)

    def drain(engine: Engine, i: int) -> list[int]:
        got: list[int] = []
        while True:
            with transaction(engine) as conn:
                batch = link_leases.claim_due_links(conn, f"w{i}", T0, limit=7, lease_seconds=60)
            if not batch:
                return got
            got.extend(link.id for link in batch)

    claimed = [link_id for got in _race(engines, drain) for link_id in got]
    counts = Counter(claimed)
    assert [i for i, n in counts.items() if n > 1] == []
    assert len(counts) == total


def test_concurrent_get_or_create_makes_one_link(engines: list[Engine], shop: int) -> None:
    def create(engine: Engine, _i: int) -> tuple[int, bool]:
        with transaction(engine) as conn:
            link, created = links.get_or_create_link(conn, shop, "576000000000000042", T0)
        return link.id, created

    results = _race(engines, create)
    assert len({link_id for link_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1


def test_concurrent_saves_one_wins(engines: list[Engine], shop: int) -> None:
    with transaction(engines[0]) as conn:
        links.get_or_create_link(conn, shop, "A", T0)
        [link] = link_leases.claim_due_links(conn, "w", T0, limit=1, lease_seconds=60)

    def save(engine: Engine, i: int) -> bool:
        try:
            with transaction(engine) as conn:
                link_leases.save_link(conn, link, "w", now=T0, memory={"by": i})
        except LeaseLost:
            return False
        return True

    assert sorted(_race(engines, save)) == [False] * (THREADS - 1) + [True]


def test_expired_lease_reclaimed_by_one_of_many(engines: list[Engine], shop: int) -> None:
    with transaction(engines[0]) as conn:
        links.get_or_create_link(conn, shop, "A", T0)
        [dead] = link_leases.claim_due_links(conn, "crashed", T0, limit=1, lease_seconds=30)
    later = T0 + timedelta(seconds=31)

    def claim(engine: Engine, i: int) -> list[int]:
        with transaction(engine) as conn:
            return [x.id for x in link_leases.claim_due_links(conn, f"w{i}", later, limit=5, lease_seconds=30)]

    assert sorted(x for got in _race(engines, claim) for x in got) == [dead.id]


def test_concurrent_duplicate_inbox_inserts(engines: list[Engine]) -> None:
    def store(engine: Engine, _i: int) -> bool:
        with transaction(engine) as conn:
            return inbox.store(conn, "tiktok", "evt-1", received_at=T0, body=b"{}", topic="ORDER_STATUS_CHANGE")

    assert sorted(_race(engines, store)) == [False] * (THREADS - 1) + [True]
    with transaction(engines[0], write=False) as conn:
        assert len(inbox.unprocessed(conn, 10)) == 1


def test_concurrent_job_claims_and_enqueues(engines: list[Engine]) -> None:
    with transaction(engines[0]) as conn:
        for i in range(30):
            jobs.enqueue(conn, "refresh_token", f"k{i}", now=T0)

    def drain(engine: Engine, i: int) -> list[int]:
        got: list[int] = []
        while True:
            with transaction(engine) as conn:
                jobs.enqueue(conn, "refresh_token", "k0", now=T0, due_at=T0 + timedelta(hours=1))
                batch = jobs.claim_due_jobs(conn, f"w{i}", T0, limit=4, lease_seconds=60)
            if not batch:
                return got
            got.extend(job.id for job in batch)

    claimed = [x for got in _race(engines, drain) for x in got]
    assert len(claimed) == len(set(claimed)) == 30


def test_concurrent_lease_acquire_has_one_winner(engines: list[Engine]) -> None:
    def acquire(engine: Engine, i: int) -> bool:
        with transaction(engine) as conn:
            return leases.acquire(conn, "poller:1", f"p{i}", T0, seconds=30)

    assert sorted(_race(engines, acquire)) == [False] * (THREADS - 1) + [True]


def test_concurrent_raise_exception_opens_one(engines: list[Engine], shop: int) -> None:
    with transaction(engines[0]) as conn:
        link, _ = links.get_or_create_link(conn, shop, "A", T0)

    def raise_(engine: Engine, i: int) -> bool:
        with transaction(engine) as conn:
            _row, opened = order_exceptions.raise_exception(
                conn, link.id, "UNMAPPED_SKU", "error", f"try {i}", {"i": i}, "link_sku", now=T0
            )
        return opened

    assert sorted(_race(engines, raise_)) == [False] * (THREADS - 1) + [True]
    with transaction(engines[0], write=False) as conn:
        assert len(order_exceptions.open_exceptions(conn, link_id=link.id)) == 1
