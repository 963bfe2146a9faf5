"""What the demo shows: each order's state on both sides, and whether it ended as expected."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table

from orderbridge.adapters.db import links, orders, transaction
from orderbridge.demo.story import Scenario
from orderbridge.demo.world import DemoWorld
from orderbridge.domain.policy import DEFAULT_HOLD_HANDLE
from orderbridge.invariants import InvariantReport

__all__ = ["OrderView", "invariant_table", "look", "order_table"]


@dataclass(frozen=True, slots=True)
class OrderView:
    """One scenario's order as both sides and the engine see it now."""

    scenario: Scenario
    tiktok_status: str
    link_state: str
    shopify_name: str
    shopify_state: str  # none | held | released | fulfilled | cancelled
    shopify_detail: str
    packages: int
    open_codes: frozenset[str]
    all_codes: frozenset[str]
    failed_checks: tuple[str, ...] = ()  # what the scenario's own checks found wrong

    def problems(self) -> list[str]:
        """How it differs from what the scenario expects (empty: as expected)."""
        s, out = self.scenario, []
        if self.tiktok_status != s.expect_tiktok:
            out.append(f"TikTok {self.tiktok_status}, expected {s.expect_tiktok}")
        if self.shopify_state != s.expect_shopify:
            out.append(f"Shopify {self.shopify_state}, expected {s.expect_shopify}")
        missing = (s.expect_open - self.open_codes) | (s.expect_raised - self.all_codes)
        if missing:
            out.append(f"expected {', '.join(sorted(missing))}")
        unexpected = {c for c in self.open_codes - s.expect_open if c != "TOTALS_MISMATCH"}
        if unexpected and not s.expect_open:
            out.append(f"unexpected {', '.join(sorted(unexpected))}")
        if self.packages != s.expect_packages:
            out.append(f"{self.packages} TikTok packages, expected {s.expect_packages}")
        return out + list(self.failed_checks)


def _shopify_state(order: dict[str, object] | None) -> tuple[str, str]:
    if order is None:
        return "none", "-"
    financial = str(order.get("financial_status") or "").lower()
    if order.get("cancelled_at"):
        return "cancelled", f"cancelled ({financial})"
    if order.get("fulfillment_status") == "fulfilled":
        return "fulfilled", f"{financial}, fulfilled"
    fos = order.get("fulfillment_orders")
    held = isinstance(fos, list) and any(
        h.get("handle") == DEFAULT_HOLD_HANDLE for fo in fos for h in fo.get("holds") or [])
    if held:
        return "held", f"{financial}, on hold"
    partial = " partly fulfilled" if order.get("fulfillment_status") else " unfulfilled"
    return "released", f"{financial},{partial}"


async def look(demo: DemoWorld, cast: list[Scenario]) -> list[OrderView]:
    """Read every scenario's order from both sandboxes and the engine's database."""
    views = []
    packages = await demo.control.tiktok_packages()
    for scenario in cast:
        oid = scenario.order_id
        tiktok = await demo.control.tiktok_order(oid)
        mirrors = await demo.control.shopify_orders(source_identifier=oid)
        with transaction(demo.services.db, write=False) as conn:
            link = links.find_link(conn, demo.connection.id, oid)
            rows = [] if link is None else [(e.code, e.status) for e in orders.exceptions_of(conn, [link.id])]
        shop = mirrors[0] if len(mirrors) == 1 else None
        state, detail = _shopify_state(shop)
        if len(mirrors) > 1:
            state, detail = "duplicated", f"{len(mirrors)} orders!"
        failed = [problem for _, check in scenario.checks if (problem := await check(demo, scenario))]
        views.append(OrderView(
            scenario, str(tiktok.get("status")), link.state if link else "-",
            str(shop.get("name")) if shop else "-", state, detail,
            sum(1 for p in packages if oid in (p.get("orders") or {})),
            frozenset(str(c) for c, st in rows if st == "open"), frozenset(str(c) for c, _ in rows),
            tuple(failed),
        ))
    return views


def order_table(views: list[OrderView], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("TikTok order", "scenario", "TikTok status", "Shopify", "Shopify status", "link",
                   "exceptions (open)", "as expected"):
        table.add_column(column, overflow="fold")
    for v in views:
        problems = v.problems()
        table.add_row(v.scenario.order_id, v.scenario.label, v.tiktok_status, v.shopify_name, v.shopify_detail,
                      v.link_state, ", ".join(sorted(v.open_codes)) or "-",
                      _verdict(v.scenario, problems))
    return table


def _verdict(scenario: Scenario, problems: list[str]) -> str:
    if problems:
        return f"[red]no: {'; '.join(problems)}[/]"
    checked = "; ".join(name for name, _ in scenario.checks)
    return f"[green]yes[/] ({checked})" if checked else "[green]yes[/]"


def invariant_table(report: InvariantReport) -> Table:
    table = Table(title=f"Invariants of docs/lifecycle.md at {report.checked_at:%Y-%m-%d %H:%M} UTC", title_justify="left")
    for column in ("#", "invariant", "orders checked", "result"):
        table.add_column(column, overflow="fold")
    for r in report.results:
        verdict = "[green]PASS[/]" if r.passed else "[bold red]FAIL[/]\n" + "\n".join(
            f"{v.tiktok_order_id}: {v.sentence}" for v in r.violations)
        table.add_row(str(r.number), f"{r.name}: {r.statement}", str(r.checked), verdict)
    return table
