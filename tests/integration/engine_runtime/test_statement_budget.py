"""The database work one created order costs the engine (issue 14 item 2: CPU per order).

Every statement and transaction is CPU on the engine's database thread (a third of its
samples in the flash-sale profile). A new order is created and held in two passes; this
counts the statements and transactions those passes send, so a regression (a no-op
write per decision, one more transaction per action) fails here first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event

from .conftest import Harness


@dataclass
class _Counts:
    statements: list[str] = field(default_factory=list)
    transactions: int = 0

    def writes_to(self, table: str) -> list[str]:
        return [s for s in self.statements if s.startswith(("UPDATE " + table, "INSERT INTO " + table))]


@contextmanager
def _counting(engine: Engine) -> Iterator[_Counts]:
    counts = _Counts()

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        text = " ".join(statement.split())
        if not text.upper().startswith(("BEGIN", "SELECT PG_", "SELECT 1")):
            counts.statements.append(text)

    def on_commit(_conn: Any) -> None:
        counts.transactions += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)


async def test_a_created_and_held_order_costs_few_statements(harness: Harness) -> None:
    h = harness
    order_id = await h.place(items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
    h.mark_due(order_id)
    with _counting(h.services.db) as counts:
        await h.settle()  # pass 1: create
        await h.advance(3)  # pass 2: the fulfilment orders exist; the hold
    link = h.link(order_id)
    assert link.state == "created_held", link.last_error
    listing = "\n".join(s[:120] for s in counts.statements)
    # No decision here resolves anything: no exception was ever open on the link (the claim
    # reads which links have one; before, every decision sent two no-op UPDATEs).
    assert counts.writes_to("order_exceptions") == [], listing
    # A save writes its timeline entries in one batched INSERT: the decision (first save of
    # each pass), the action with the link's API calls (last save), and the batch's
    # connection-level calls with the SKU read: six for the two passes (eight before).
    assert len(counts.writes_to("events")) == 6, listing
    # 27 statements and 15 transactions before (the claim of each pass and the empty claim
    # that ends it, the token reads, the SKU read, two saves per pass, the batch's calls).
    assert len(counts.statements) <= 23, listing
    assert counts.transactions <= 13, listing
