"""The invariants of lifecycle.md, checked from the outside after (or during) a run.

``check_invariants(control, services, connection_id, now=...)`` reads both sandboxes through
the control API (unmasked TikTok orders with the time each reached AWAITING_SHIPMENT,
cancellations, packages; Shopify orders with their holds, transactions, fulfilments and
claimed inventory; the Shopify sandbox's own history of hold releases; mutation counts) and
the engine's database (links, exceptions with their data, the inbox), and says for each
invariant whether it holds, naming every offending TikTok order in a sentence.

What happened, and when, comes from the sandboxes only. The engine's records are used for
one thing: to find an explanation the lifecycle allows, and an explanation counts only if
it is open and says what the checker itself saw (a TOTALS_MISMATCH for the very difference
observed, a tracking exception for that fulfilment and number).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from orderbridge.adapters.db import connections, transaction
from orderbridge.devkit import ControlClient
from orderbridge.engine.ports import Clients
from orderbridge.invariants.checks import Checker
from orderbridge.invariants.observe import read_db, read_world
from orderbridge.invariants.report import InvariantReport, InvariantResult, Violation

__all__ = ["InvariantReport", "InvariantResult", "Violation", "check_invariants"]


async def check_invariants(
    control: ControlClient, services: Clients, connection_id: int, *, now: datetime
) -> InvariantReport:
    """Check lifecycle.md's six invariants for one connection at ``now`` (the story clock).

    Call it when the engine has caught up (nothing due); a check in mid-flight reports the
    orders the engine has not reached yet.
    """
    db = await asyncio.to_thread(read_db, services, connection_id)
    with transaction(services.db, write=False) as conn:
        row = connections.get_connection(conn, services.cipher, connection_id)
    if row is None:
        raise ValueError(f"no connection {connection_id}")
    world = await read_world(control, row.tiktok_shop_id, row.shopify_domain)
    checker = Checker(db, world, now)
    results = [checker.one_order(), checker.release(), checker.cancellations(), checker.tracking(),
               checker.totals(), checker.nothing_lost()]
    return InvariantReport(now, results)
