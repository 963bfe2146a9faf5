"""Every timeline entry is on the engine's clock, API calls included.

The decision, the action's outcome and the exceptions are stamped with the engine's
injected clock; the API calls made on the order's behalf must be too, or a timeline under a
clock far from the wall clock (an accelerated demo, these tests) puts every API call
before or after the whole story. Here the shared clock runs ``RATE`` times real speed from
``START``, years away from the wall clock, on both databases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from orderbridge.adapters.db import EventKind, events, transaction
from orderbridge.bootstrap import Services
from orderbridge.clock import ScaledClock
from orderbridge.devkit import ControlClient
from orderbridge.engine.skus import import_catalogues
from orderbridge.engine.worker import Reconciler
from orderbridge.sandbox.runner import RunningSandboxes, SandboxWorld, running_sandboxes

from .conftest import Harness, engine_settings, sandbox_connection

# Years ahead of any wall clock these tests run under; a Monday, US business hours.
START = datetime(2031, 3, 3, 17, 0, tzinfo=UTC)
RATE = 20.0
# However slow the machine, the test's whole story stays within this much engine time.
MAX_STORY = timedelta(days=1)


@pytest.fixture
def scaled_sandboxes() -> Iterator[RunningSandboxes]:
    world = SandboxWorld(seed=3, start=START, rate=RATE)
    with running_sandboxes(world) as (running, _thread):
        yield running


@pytest.fixture
async def scaled(scaled_sandboxes: RunningSandboxes, migrated_db_url: str) -> AsyncIterator[Harness]:
    running = scaled_sandboxes
    info = running.info()
    assert isinstance(running.world.clock, ScaledClock)
    async with httpx.AsyncClient(timeout=15.0) as http:
        services = Services.create(engine_settings(migrated_db_url, info), clock=running.world.clock,
                                   http=http, migrate_db=False)
        try:
            connection = sandbox_connection(services, info)
            control = ControlClient(info["control_url"], http)
            await control.shopify_shop_settings(connection.shopify_domain, plan="enterprise",
                                                bucket_size=50_000, create_cap=0)
            await import_catalogues(services, connection)
            yield Harness(running=running, info=info, http=http, control=control, services=services,
                          connection=connection, reconciler=Reconciler(services, "test-worker", batch=50))
        finally:
            services.db.dispose()


def _index(story: list[events.EventRow], kind: str, summary: str) -> int:
    found = [i for i, e in enumerate(story) if e.kind == kind and e.summary.startswith(summary)]
    assert found, f"no {kind} {summary!r} in\n" + "\n".join(f"{e.at} {e.kind} {e.summary}" for e in story)
    return found[0]


async def test_api_calls_sit_in_the_timeline_at_their_engine_clock_instants(scaled: Harness) -> None:
    h = scaled
    before = h.now()
    assert before - START < MAX_STORY
    order_id = await h.place(items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
    h.mark_due(order_id)
    await h.settle()
    await h.advance(10)  # the fulfilment orders appear; the hold goes on
    await h.settle()
    after = h.now()
    link = h.link(order_id)
    assert link.state == "created_held", link.last_error
    with transaction(h.services.db, write=False) as conn:
        story = events.timeline(conn, link.id)

    calls = [e for e in story if e.kind == EventKind.API_CALL]
    apis = {e.summary.split()[0] for e in calls}
    assert apis == {"tiktok", "shopify"}, apis
    wall = datetime.now(UTC)
    for entry in story:
        at = entry.at.replace(tzinfo=entry.at.tzinfo or UTC)
        # On the engine's clock (which is years from the wall clock), inside this story.
        assert before <= at <= after, (entry.kind, entry.summary, at, before, after)
        assert abs(at - wall) > timedelta(days=365), (entry.kind, entry.summary, at)

    # The story reads in the order things happened: the TikTok read, the decision to create,
    # the orderCreate call, the create's outcome; then the hold decided, called, done.
    read = _index(story, EventKind.API_CALL, "tiktok ")
    decide_create = _index(story, EventKind.DECISION, "new -> ")
    create_call = _index(story, EventKind.API_CALL, "shopify OrderCreate: ok")
    created = _index(story, EventKind.ACTION, "create_shopify_order: success")
    assert read < decide_create < create_call < created
    hold_call = _index(story, EventKind.API_CALL, "shopify FulfillmentOrderHold: ok")
    held = _index(story, EventKind.ACTION, "place_hold: success")
    assert created < hold_call < held
    decide_hold = max(i for i, e in enumerate(story[:hold_call]) if e.kind == EventKind.DECISION)
    assert created < decide_hold
    assert "place_hold" in (story[decide_hold].data or {}).get("actions", [])
    # Within a pass, an action's call starts before its outcome is stamped.
    assert story[create_call].at <= story[created].at
    assert story[hold_call].at <= story[held].at
