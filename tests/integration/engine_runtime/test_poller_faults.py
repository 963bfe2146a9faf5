"""One connection's fault parks only that connection (issue 8, item 3), on both databases.

Two sandbox connections; the second's stored TikTok token is ciphertext under a key we do
not hold (what a changed ORDERBRIDGE_SECRET_KEY looks like). The poller keeps polling the
first on schedule, retries the second with exponential back-off on the sandbox's frozen
clock, logs one line per failure with no traceback, and puts one warning on the timeline.
"""

from __future__ import annotations

import itertools
import logging
from datetime import datetime

import pytest
from sqlalchemy import update

from orderbridge.adapters.db import EventKind, TokenCipher, events, generate_key, transaction
from orderbridge.adapters.db.tables import connections as connections_table
from orderbridge.engine.poll_health import POLL_RETRY_BASE_SECONDS
from orderbridge.engine.poller import Poller

from .conftest import Harness, sandbox_connection

STEP_SECONDS = 10.0
RUN_SECONDS = 4000.0
POLL_INTERVAL = 300.0


def _corrupt_token(h: Harness, connection_id: int) -> None:
    foreign = TokenCipher(generate_key()).encrypt("a token under another key")
    with transaction(h.services.db) as conn:
        conn.execute(
            update(connections_table)
            .where(connections_table.c.id == connection_id)
            .values(tiktok_access_token_enc=foreign)
        )


async def test_a_token_that_no_longer_decrypts_parks_only_its_connection(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    good = h.connection.id
    bad = sandbox_connection(h.services, h.info, shop_index=1).id
    _corrupt_token(h, bad)
    order_id = await h.place(items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
    woken: list[int] = []
    poller = Poller(h.services, "poller-test", on_due=lambda: woken.append(1), rand=lambda: 0.0)
    assert h.services.settings.poll_interval_seconds == POLL_INTERVAL

    good_polls: list[datetime] = []
    bad_attempts: list[datetime] = []
    caplog.set_level(logging.WARNING, logger="orderbridge.engine.poller")
    elapsed = 0.0
    while elapsed <= RUN_SECONDS:
        before = poller.parked[bad].failures if bad in poller.parked else 0
        reports = await poller.poll_due()
        if good in reports:
            good_polls.append(h.now())
        if poller.parked[bad].failures > before:
            bad_attempts.append(h.now())
        await h.control.advance(STEP_SECONDS)
        elapsed += STEP_SECONDS

    # The good connection was polled on schedule all along and found the order.
    assert len(good_polls) >= int(RUN_SECONDS // POLL_INTERVAL)
    assert woken, "the poll that saw the new order did not wake the workers"
    h.link(order_id)  # the poll made its link
    assert good not in poller.parked

    # The bad one: attempts spaced exponentially (base, 2x, 4x, ...), not one per pass.
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(bad_attempts)]
    assert gaps[0] == pytest.approx(POLL_RETRY_BASE_SECONDS, abs=STEP_SECONDS)
    for earlier, later in itertools.pairwise(gaps):
        assert later >= 2 * earlier - STEP_SECONDS, gaps
    assert 5 <= len(bad_attempts) <= 9, bad_attempts
    parked = poller.parked[bad]
    assert parked.failures == len(bad_attempts)
    assert parked.last_error.startswith("token cannot be decrypted: key changed?")

    # One log line per failure, each naming the connection, none with a traceback.
    lines = [r for r in caplog.records if f"connection {bad} " in r.getMessage()]
    assert len(lines) == len(bad_attempts)
    assert all(r.exc_info is None and r.levelno == logging.WARNING for r in lines)
    assert not [r for r in caplog.records if f"connection {good} " in r.getMessage()]

    # One warning a person can see on the connection's timeline (not one per attempt).
    with transaction(h.services.db, write=False) as conn:
        warnings = [e for e in events.recent(conn, connection_id=bad) if e.kind == EventKind.WARNING]
    assert len(warnings) == 1
    assert "token cannot be decrypted: key changed?" in warnings[0].summary


async def test_a_parked_connection_resumes_once_its_token_is_readable(harness: Harness) -> None:
    h = harness
    bad = sandbox_connection(h.services, h.info, shop_index=1)
    _corrupt_token(h, bad.id)
    poller = Poller(h.services, "poller-test", rand=lambda: 0.0)
    await poller.poll_due()
    assert poller.parked[bad.id].failures == 1
    # The operator re-stores the token (e.g. reconnects) under the current key.
    with transaction(h.services.db) as conn:
        conn.execute(
            update(connections_table).where(connections_table.c.id == bad.id)
            .values(tiktok_access_token_enc=h.services.cipher.encrypt(bad.tiktok_access_token or ""))
        )
    await poller.poll_due()  # still backing off: not retried yet
    assert poller.parked[bad.id].failures == 1
    await h.control.advance(POLL_RETRY_BASE_SECONDS)
    reports = await poller.poll_due()
    assert bad.id in reports
    assert bad.id not in poller.parked
    with transaction(h.services.db, write=False) as conn:
        texts = [e.summary for e in events.recent(conn, connection_id=bad.id)]
    assert any(t.startswith("poller resumed after 1 failed") for t in texts), texts
