"""Push Shopify's stock to TikTok: claim due SKUs by product, compute, push, read back.

A Shopify ``inventory_levels/update`` webhook (or ``orderbridge stock sync``) makes the
linked TikTok SKUs due, debounced (``adapters/db/stock.py``). A pass claims the due SKUs of
a few products and, per product:

1. reads what the engine knows of TikTok orders not yet shipped (the link snapshots), then
   Shopify's available units of each linked SKU per location, then TikTok's Inventory
   Search for the product (its warehouses and the units TikTok's open orders hold) — in that
   order, so an order that moves between the reads is counted twice rather than never;
2. computes each SKU's number per mapped warehouse (``domain/stock_push.plan_sku``) and
   sends all of the product's linked SKUs in one Update Inventory call, every warehouse
   listed (the client's limiter keeps each endpoint under TikTok's 50 requests/s);
3. surfaces per-SKU errors of a ``code: 0`` answer: passing faults are retried with
   back-off a few times, promotion locks, shared stock and refusals become a visible
   problem on the SKU's row (``orderbridge stock problems``) and one timeline event, and
   are not retried until the next stock change;
4. reads the product back with Inventory Search: a number above what was pushed (someone
   else raised it) makes the SKU due again at once.

Besides changes, every linked SKU is pushed again at start and every ``reconcile_hours``
(``reconcile_if_due``): a backstop for lost webhooks and for stock changed on TikTok's side.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from orderbridge.adapters.db import Database, EventKind, events, run_sync, transaction
from orderbridge.adapters.db import stock as stock_db
from orderbridge.adapters.db.connections import ConnectionRow, get_connection
from orderbridge.adapters.db.crypto import TokenCipher
from orderbridge.adapters.shopify.models_stock import InventoryItemLevels
from orderbridge.adapters.tiktok import SkuWarehouseStock
from orderbridge.adapters.tiktok.models import ProductStock
from orderbridge.clock import Clock
from orderbridge.domain.stock_push import (
    SkuError,
    SkuErrorKind,
    classify_sku_error,
    plan_sku,
    readback_needs_push,
    retry_delay,
    unmirrored_units,
)
from orderbridge.engine.stock_config import StockConfig, stock_config
from orderbridge.engine.stock_units import PendingUnits, pending_units
from orderbridge.errors import AuthError, ConfigurationError, RemoteError, RetryableError
from orderbridge.logs import get_logger

__all__ = ["CLAIM_FOR", "MAX_RETRIES", "ProductOutcome", "StockPusher"]

slog = get_logger(__name__)

CLAIM_FOR = timedelta(seconds=60)
MAX_RETRIES = 5  # passing faults on a SKU before it becomes a visible problem
PRODUCTS_AT_ONCE = 8
IDLE_LOOK_SECONDS = 0.5
RECONCILE_LOOK_SECONDS = 60.0  # how often a pusher asks whether a full reconciliation is due
UNKNOWN_PRODUCT = "the TikTok product of this SKU is unknown: run `orderbridge skus import`"
NO_INVENTORY_ITEM = "the linked Shopify variant has no inventory item on record: run `orderbridge skus import`"
MIN_WAIT_SECONDS = 0.02


class TikTokStock(Protocol):
    async def update_inventory(self, product_id: str, skus: Sequence[SkuWarehouseStock]) -> list[SkuError]: ...
    async def search_inventory(self, *, product_ids: Sequence[str] | None = None,
                               sku_ids: Sequence[str] | None = None) -> list[ProductStock]: ...


class ShopifyStock(Protocol):
    async def inventory_item_levels(self, inventory_item_id: str, *, priority: int = ...) -> InventoryItemLevels | None: ...


@dataclass
class ProductOutcome:
    """What one product's push did (for the CLI's progress and the bench)."""

    connection_id: int
    product_id: str | None
    pushed: dict[str, dict[str, int]] = field(default_factory=dict)  # sku -> warehouse -> units
    problems: dict[str, SkuError] = field(default_factory=dict)
    retried: list[str] = field(default_factory=list)


def _tiktok_numbers(stock: list[ProductStock]) -> dict[str, tuple[int, dict[str, int]]]:
    """SKU id -> (committed units, available per warehouse)."""
    return {sku.id: (sku.total_committed_quantity,
                     {w.warehouse_id: w.available_quantity for w in sku.warehouse_inventory})
            for product in stock for sku in product.skus}


@dataclass
class StockPusher:
    """One claimer of due SKUs (any number may run: claims never overlap)."""

    db: Database
    clock: Clock
    cipher: TokenCipher
    tiktok_for: Callable[[ConnectionRow], TikTokStock]
    shopify_for: Callable[[ConnectionRow], ShopifyStock]
    products_per_pass: int = 20
    _tiktok: dict[int, TikTokStock] = field(default_factory=dict)
    _shopify: dict[int, ShopifyStock] = field(default_factory=dict)

    def _clients(self, connection: ConnectionRow) -> tuple[TikTokStock, ShopifyStock]:
        # One client per connection for the pusher's life: its limiter spaces the calls.
        if connection.id not in self._tiktok:
            self._tiktok[connection.id] = self.tiktok_for(connection)
            self._shopify[connection.id] = self.shopify_for(connection)
        return self._tiktok[connection.id], self._shopify[connection.id]

    async def run_once(self) -> list[ProductOutcome]:
        """Claim due SKUs (whole products) and push them; returns one outcome per product."""
        now = self.clock.now()

        def claim() -> list[stock_db.ClaimedSku]:
            with transaction(self.db) as conn:
                return stock_db.claim_due(conn, now=now, claim_for=CLAIM_FOR, limit=self.products_per_pass)

        claimed = await run_sync(self.db, claim)
        groups: dict[tuple[int, str | None], list[stock_db.ClaimedSku]] = {}
        for sku in claimed:
            groups.setdefault((sku.connection_id, sku.product_id), []).append(sku)
        gate = asyncio.Semaphore(PRODUCTS_AT_ONCE)

        async def one(key: tuple[int, str | None], skus: list[stock_db.ClaimedSku]) -> ProductOutcome:
            async with gate:
                return await self._product(key[0], key[1], skus)

        return list(await asyncio.gather(*(one(k, v) for k, v in groups.items())))

    async def reconcile_if_due(self) -> int:
        """Make every linked SKU of a connection due when its last full reconciliation is
        ``reconcile_hours`` old (or never happened: at start); how many SKUs. The time is
        kept per connection in ``stock_reconciles``, so processes and restarts agree; it is only recorded once the connection has linked SKUs."""
        now = self.clock.now()

        def work() -> int:
            marked = 0
            with transaction(self.db) as conn:
                for cid, policy in stock_db.active_connection_policies(conn).items():
                    try:
                        config = stock_config(policy)
                    except ConfigurationError:
                        continue  # refused when set; an old row is reported by the push itself
                    if not config.enabled or config.reconcile_hours <= 0:
                        continue
                    last = stock_db.last_reconcile(conn, cid)
                    if last is not None and last + timedelta(hours=config.reconcile_hours) > now:
                        continue
                    skus = stock_db.linked_skus(conn, cid)
                    if skus:
                        marked += stock_db.mark_due(conn, skus, now=now, due=now)
                        stock_db.set_last_reconcile(conn, cid, now)
            return marked

        marked = await run_sync(self.db, work)
        if marked:
            slog.info("stock_reconcile_started", skus=marked)
        return marked

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Pass after pass until ``stop``: at the next due time, looking at least every
        ``IDLE_LOOK_SECONDS`` (web processes make SKUs due without waking this one)."""
        next_reconcile_look = 0.0
        while not stop.is_set():
            busy = False
            try:
                if time.monotonic() >= next_reconcile_look:
                    next_reconcile_look = time.monotonic() + RECONCILE_LOOK_SECONDS
                    await self.reconcile_if_due()
                busy = bool(await self.run_once())
                due = await self.next_due_time()
            except Exception:  # keep pushing: the database or an API may come back
                slog.exception("stock_push_pass_failed")
                due = None
            wait = IDLE_LOOK_SECONDS if due is None else self.clock.real_seconds_until(due)
            wait = 0.0 if busy and wait <= 0 else min(max(wait, MIN_WAIT_SECONDS), IDLE_LOOK_SECONDS)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)

    async def next_due_time(self) -> datetime | None:
        def read() -> datetime | None:
            with transaction(self.db, write=False) as conn:
                return stock_db.next_due_time(conn)
        return await run_sync(self.db, read)

    async def _product(self, cid: int, product_id: str | None, claimed: list[stock_db.ClaimedSku]) -> ProductOutcome:
        outcome = ProductOutcome(cid, product_id)

        def load() -> tuple[ConnectionRow | None, list[stock_db.LinkedSku], list[stock_db.PendingOrder]]:
            with transaction(self.db, write=False) as conn:
                connection = get_connection(conn, self.cipher, cid)
                linked = stock_db.linked_skus(conn, cid, [product_id]) if product_id else []
                return connection, linked, stock_db.pending_orders(conn, cid)

        connection, linked, pending = await run_sync(self.db, load)
        config = stock_config(connection.policy) if connection is not None else StockConfig(enabled=False)
        wanted = [s for s in linked if s.inventory_item_id]
        if connection is None or not config.enabled:
            await self._finish(claimed, outcome)
            return outcome
        pushable = {s.tiktok_sku_id for s in wanted}
        for sku in claimed:  # linked, but nothing to push it from or to: say so, once
            if sku.tiktok_sku_id not in pushable:
                why = (UNKNOWN_PRODUCT if not product_id else NO_INVENTORY_ITEM)
                outcome.problems[sku.tiktok_sku_id] = SkuError(sku.tiktok_sku_id, 0, why)
        if not product_id or not wanted:
            await self._finish(claimed, outcome)
            return outcome
        try:
            outcome = await self._push(connection, config, product_id, wanted, pending, outcome)
        except RetryableError as exc:
            slog.warning("stock_push_retry", connection_id=cid, product_id=product_id, error=str(exc)[:300])
            outcome.retried = [s.tiktok_sku_id for s in claimed]
        except (AuthError, RemoteError) as exc:
            code = exc.code if isinstance(exc.code, int) else 0
            err = SkuError("", code, f"{type(exc).__name__}: {exc}"[:500])
            outcome.problems = {s.tiktok_sku_id: SkuError(s.tiktok_sku_id, err.code, err.message) for s in claimed}
        await self._finish(claimed, outcome)
        return outcome

    async def _push(self, connection: ConnectionRow, config: StockConfig, product_id: str,
                    wanted: list[stock_db.LinkedSku], pending: list[stock_db.PendingOrder],
                    outcome: ProductOutcome) -> ProductOutcome:
        tiktok, shopify = self._clients(connection)
        units: PendingUnits = pending_units(pending)
        levels: dict[str, dict[str, int]] = {}
        for sku in wanted:
            assert sku.inventory_item_id is not None
            item = await shopify.inventory_item_levels(sku.inventory_item_id)
            levels[sku.tiktok_sku_id] = {} if item is None else {lv.location_id: lv.available for lv in item.levels}
        before = _tiktok_numbers(await tiktok.search_inventory(product_ids=[product_id]))
        entries: list[SkuWarehouseStock] = []
        planned: dict[str, dict[str, int]] = {}
        plan: tuple[tuple[str, int], ...]
        for sku in wanted:
            committed, _warehouses = before.get(sku.tiktok_sku_id, (None, {}))
            unmirrored = unmirrored_units(units.unmirrored.get(sku.tiktok_sku_id, 0), committed,
                                          units.mirrored.get(sku.tiktok_sku_id, 0))
            plan = plan_sku(levels[sku.tiktok_sku_id], config.mapping, unmirrored, config.buffer)
            planned[sku.tiktok_sku_id] = dict(plan)
            entries.append(SkuWarehouseStock(sku.tiktok_sku_id, plan))
        errors = await tiktok.update_inventory(product_id, entries)
        for err in errors:
            if classify_sku_error(err.code) is SkuErrorKind.RETRY:
                outcome.retried.append(err.sku_id)
            else:
                outcome.problems.setdefault(err.sku_id, err)
        failed = set(outcome.retried) | set(outcome.problems)
        outcome.pushed = {sku: plan for sku, plan in planned.items() if sku not in failed}
        after = _tiktok_numbers(await tiktok.search_inventory(product_ids=[product_id]))
        for sku_id, quantities in outcome.pushed.items():
            seen = after.get(sku_id, (0, {}))[1]
            pushed_total, seen_total = sum(quantities.values()), sum(seen.values())
            if readback_needs_push(pushed_total, seen_total):
                slog.warning("stock_readback_higher", connection_id=connection.id, sku_id=sku_id,
                             pushed=pushed_total, seen=seen_total)
                outcome.retried.append(sku_id)
        return outcome

    async def _finish(self, claimed: list[stock_db.ClaimedSku], outcome: ProductOutcome) -> None:
        now = self.clock.now()
        hinted_due = now  # a change that came in during the pass: it already waited its debounce

        def save() -> None:
            with transaction(self.db) as conn:
                for sku in claimed:
                    sid = sku.tiktok_sku_id
                    problem = outcome.problems.get(sid)
                    if problem is not None:
                        kind = classify_sku_error(problem.code)
                        stock_db.finish(conn, sku, now=now, next_due=None, hinted_due=hinted_due,
                                        problem=(str(kind), problem.code, problem.message))
                        self._problem_event(conn, sku, kind, problem, now)
                    elif sid in outcome.retried:
                        attempts = sku.attempts + 1
                        if attempts > MAX_RETRIES:
                            message = f"stock push still failing after {MAX_RETRIES} retries"
                            stock_db.finish(conn, sku, now=now, next_due=None, hinted_due=hinted_due,
                                            problem=("rejected", 0, message))
                            self._problem_event(conn, sku, SkuErrorKind.REJECTED,
                                                SkuError(sid, 0, message), now)
                        else:
                            stock_db.finish(conn, sku, now=now, next_due=now + retry_delay(attempts),
                                            hinted_due=hinted_due, attempts=attempts,
                                            pushed=outcome.pushed.get(sid))
                    else:
                        stock_db.finish(conn, sku, now=now, next_due=None, hinted_due=hinted_due,
                                        pushed=outcome.pushed.get(sid), clear_problem=sid in outcome.pushed)

        await run_sync(self.db, save)

    @staticmethod
    def _problem_event(conn: Any, sku: stock_db.ClaimedSku, kind: SkuErrorKind, err: SkuError,
                       now: datetime) -> None:
        slog.warning("stock_push_refused", connection_id=sku.connection_id, sku_id=sku.tiktok_sku_id,
                     product_id=sku.product_id, kind=str(kind), code=err.code, error=err.message[:300])
        events.append(conn, None, EventKind.WARNING,
                      f"TikTok refused the stock of SKU {sku.tiktok_sku_id} ({kind}, {err.code}): {err.message}",
                      {"sku_id": sku.tiktok_sku_id, "product_id": sku.product_id, "kind": str(kind),
                       "code": err.code, "warehouse_id": err.warehouse_id},
                      at=now, connection_id=sku.connection_id)
