"""The 3PL poller: incremental, by update time, never a scan of every order.

Per connection and 3PL, from a watermark (``cursors``, stream ``threepl:<3pl>``) less an
overlap (clocks and commit order are not exact):

- **Amazon MCF**: ``listAllFulfillmentOrders`` by ``queryStartDate``, following ``nextToken``;
  an order whose ``statusUpdatedDate`` is not newer than what is stored is skipped, any
  other is read once with ``getFulfillmentOrder`` (its shipments and packages carry the
  tracking). Its ``displayableOrderId`` is kept as the alternative reference.
- **ShipBob**: ``GET /order`` by ``LastUpdateStartDate``, oldest first, page by page (each
  order comes with its shipments and their tracking); ``order_number`` is the alternative
  reference. ShipBob's webhooks (``order.shipped``) make the same call for one order
  unnecessary: whoever receives them stores the order with ``store_views``.

Each changed order is stored (``threepl_orders``) and the links it may belong to are made
due (by TikTok order id, Shopify order id or name). The clients keep under each 3PL's
quota (Amazon's token bucket, ShipBob's sliding minute) and honour their 429s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from orderbridge.adapters.amazon_mcf import AmazonMcfClient
from orderbridge.adapters.amazon_mcf.translate import to_threepl_view as mcf_view
from orderbridge.adapters.db import Connection, Database, cursors, in_transaction, threepl_orders
from orderbridge.adapters.shipbob import ShipBobClient
from orderbridge.adapters.shipbob.translate import to_threepl_view as shipbob_view
from orderbridge.domain.observed import ThreePLView
from orderbridge.domain.policy import ThreePL
from orderbridge.logs import get_logger

__all__ = ["FIRST_LOOKBACK", "OVERLAP", "ThreePLPoller", "store_views", "stream_of", "threepl_store"]

slog = get_logger(__name__)

_Views = AsyncIterator[tuple[ThreePLView, str | None]]

# Read again this far before the watermark: late commits and clock skew at the 3PL.
OVERLAP: Final = timedelta(minutes=5)
# A 3PL never polled before is read from this far back.
FIRST_LOOKBACK: Final = timedelta(days=3)


def stream_of(threepl: ThreePL) -> str:
    """The cursor stream of a 3PL's poll."""
    return f"threepl:{threepl.value}"


def store_views(conn: Connection, connection_id: int, views: Sequence[tuple[ThreePLView, str | None]],
                now: datetime) -> int:
    """Store these (view, alternative reference) pairs; make due the links of those that
    changed. Returns how many changed."""
    changed = 0
    for view, alt in views:
        if threepl_orders.upsert(conn, connection_id, view, now=now, alt_reference=alt):
            changed += 1
            threepl_orders.due_links_for(conn, connection_id, [view.reference, alt or ""], now)
    return changed


def threepl_store(db: Database, connection_id: int, now: Callable[[], datetime]
                  ) -> Callable[[ThreePLView, str | None], Awaitable[None]]:
    """``store_views`` of one found order, for the fallback search (``threepl/route.py``)."""

    async def store(view: ThreePLView, alt: str | None) -> None:
        at = now()

        def work(conn: Connection) -> int:
            return store_views(conn, connection_id, [(view, alt)], at)

        await in_transaction(db, work)

    return store


def _unchanged(known: tuple[datetime | None, str] | None, updated: datetime | None, status: str) -> bool:
    """Whether a listed order is the one stored: not updated since, same status."""
    if known is None or updated is None:
        return False
    stored_at, stored_status = known
    if stored_at is None:
        return False
    return updated < stored_at or (updated == stored_at and status == stored_status)


@dataclass
class ThreePLPoller:
    """One connection's 3PL polls; a client left ``None`` is a 3PL the seller does not use."""

    db: Database
    connection_id: int
    now: Callable[[], datetime]
    amazon: AmazonMcfClient | None = None
    shipbob: ShipBobClient | None = None

    async def poll_once(self) -> int:
        """Poll every configured 3PL once; returns the 3PL orders that changed."""
        changed = 0
        if self.amazon is not None:
            changed += await self._poll(ThreePL.AMAZON_MCF, self._amazon)
        if self.shipbob is not None:
            changed += await self._poll(ThreePL.SHIPBOB, self._shipbob)
        return changed

    async def _poll(self, threepl: ThreePL, read: Callable[[datetime], _Views]) -> int:
        cid, stream = self.connection_id, stream_of(threepl)
        now = self.now()
        mark = await in_transaction(self.db, lambda c: cursors.get_cursor(c, cid, stream), write=False)
        since = (mark or now - FIRST_LOOKBACK) - OVERLAP
        newest, changed = mark, 0
        async for view, alt in read(since):
            changed += await self._store(view, alt)
            if view.updated_at is not None and (newest is None or view.updated_at > newest):
                newest = view.updated_at
        if newest is not None and newest != mark:
            await in_transaction(self.db, lambda c: cursors.set_cursor(c, cid, stream, newest, now=now))
        slog.info("threepl_polled", connection_id=cid, threepl=threepl.value, changed=changed)
        return changed

    async def _store(self, view: ThreePLView, alt: str | None) -> int:
        cid, at = self.connection_id, self.now()

        def work(conn: Connection) -> int:
            return store_views(conn, cid, [(view, alt)], at)

        return await in_transaction(self.db, work)

    async def _known(self, threepl: ThreePL, order_id: str) -> tuple[datetime | None, str] | None:
        cid = self.connection_id

        def work(conn: Connection) -> tuple[datetime | None, str] | None:
            return threepl_orders.remote_updated_at(conn, cid, threepl.value, order_id)

        return await in_transaction(self.db, work, write=False)

    async def _amazon(self, since: datetime) -> _Views:
        assert self.amazon is not None
        async for summary in self.amazon.iter_updated_since(since):
            ref = summary.seller_fulfillment_order_id
            if _unchanged(await self._known(ThreePL.AMAZON_MCF, ref), summary.status_updated_date,
                          summary.fulfillment_order_status):
                continue  # seen as it is now (the overlap lists it again)
            detail = await self.amazon.get_order(ref)
            yield mcf_view(detail), summary.displayable_order_id

    async def _shipbob(self, since: datetime) -> _Views:
        assert self.shipbob is not None
        async for order in self.shipbob.iter_updated_since(since):
            yield shipbob_view(order), order.order_number

