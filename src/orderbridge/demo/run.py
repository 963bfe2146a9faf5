"""``orderbridge demo``: the sandboxes and the engine together, playing a day of orders.

One process runs the TikTok Shop and Shopify sandboxes, and the engine (web app, workers,
pollers) on SQLite in a temporary directory, connected to the sandbox shop with webhooks
pointing at the engine (``world.py``). The story (``story.py``) places a
realistic mix of orders through the control API, plays the buyers, TikTok, the merchant
fulfilling in Shopify and the carriers over about 24 hours of story time (the clock moves
in steps; the engine catches up after each), narrating what changes. At the end it prints
each order on both sides (``report.py``) and the invariant report
(``orderbridge.invariants``). The run succeeds when every invariant holds and every order
ended as its scenario expects. With ``keep_serving`` everything stays up for a person to
watch and play, on a real-time clock, until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from datetime import UTC, datetime
from typing import Final

from rich.console import Console

from orderbridge.demo.report import OrderView, invariant_table, look, order_table
from orderbridge.demo.story import Scenario, play, scenarios
from orderbridge.demo.world import DEMO_ADMIN, DemoWorld, fixed_ports
from orderbridge.invariants import check_invariants
from orderbridge.sandbox.runner import DEFAULT_PORTS

DEFAULT_ENGINE_PORT: Final = 8000

__all__ = ["DEFAULT_EXTRA_ORDERS", "DEMO_START", "run_demo"]

DEMO_START: Final = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)  # a Monday, US business hours
DEFAULT_EXTRA_ORDERS: Final = 5
DEFAULT_SEED: Final = 7


class _Narrator:
    """Prints story steps with the story time, and what changed for each order since the last look."""

    def __init__(self, console: Console, demo: DemoWorld, cast: list[Scenario]) -> None:
        self.console, self.demo, self.cast = console, demo, cast
        self.seen: dict[str, tuple[str, str, frozenset[str]]] = {}

    def stamp(self) -> str:
        elapsed = int((self.demo.now() - DEMO_START).total_seconds())
        return f"T+{elapsed // 3600:02d}:{elapsed % 3600 // 60:02d}"

    def say(self, text: str) -> None:
        self.console.print(f"[dim]{self.stamp()}[/]  {text}")

    async def checkpoint(self) -> list[OrderView]:
        views = await look(self.demo, self.cast)
        for v in views:
            now = (v.tiktok_status, f"{v.shopify_name} {v.shopify_detail}", v.open_codes)
            before = self.seen.get(v.scenario.order_id)
            self.seen[v.scenario.order_id] = now
            if before == now:
                continue
            changes = []
            if before is None or before[0] != now[0]:
                changes.append(f"TikTok {now[0]}")
            if before is None or before[1] != now[1]:
                changes.append(f"Shopify {now[1]}" if v.shopify_name != "-" else "no Shopify order")
            if before is None or before[2] != now[2]:
                raised, gone = now[2] - (before[2] if before else frozenset()), (before[2] if before else set()) - now[2]
                changes += [f"[yellow]+{c}[/]" for c in sorted(raised)] + [f"[green]-{c}[/]" for c in sorted(gone)]
            self.say(f"{v.scenario.order_id} [bold]{v.scenario.key}[/]: {'; '.join(changes)}")
        return views


async def _serve_until_stopped(console: Console, demo: DemoWorld, rate: float) -> None:
    await demo.control.set_clock(mode="scaled", rate=rate)
    control = demo.info["control_url"]
    console.print(
        f"\n[bold]Still serving[/] (clock at {rate:g}x real time). Press Ctrl-C to stop.\n"
        f"  control API docs   {control}/docs   (place orders, pay, cancel, fulfil, move the clock)\n"
        f"  sandbox info       {control}/info\n"
        f"  engine API         {demo.engine_url}/api/orders   (docs: {demo.engine_url}/docs)\n"
        f"  engine exceptions  {demo.engine_url}/api/exceptions?status=open\n"
        f"  settings           {demo.config_path}   (its SQLite database; removed when the demo stops)\n"
        f"  from another terminal, e.g.:\n"
        f"    ORDERBRIDGE_CONFIG={demo.config_path} orderbridge status\n"
        f"  dashboard          {demo.engine_url}/dashboard   (sign in as {DEMO_ADMIN} after setting a password:\n"
        f"    ORDERBRIDGE_CONFIG={demo.config_path} orderbridge user password {DEMO_ADMIN})\n"
        f"  the engine's API is private: every request needs the demo admin's token, e.g.\n"
        f"    curl -H 'Authorization: Bearer {demo.admin_token}' {demo.engine_url}/api/orders")
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stopped.set)
    await stopped.wait()


async def run_demo(console: Console, *, orders: int = DEFAULT_EXTRA_ORDERS, keep_serving: bool = False,
                   rate: float = 1.0, seed: int = DEFAULT_SEED) -> bool:
    """Play the story; True when every invariant held and every order ended as expected."""
    began = time.perf_counter()
    # Serving afterwards: the documented ports (sandboxes 9000-9004, engine 8000) when they are free,
    # so the printed addresses and the docs agree; a one-shot run takes any free ports.
    fixed = fixed_ports(DEFAULT_PORTS, DEFAULT_ENGINE_PORT) if keep_serving else None
    if keep_serving and fixed is None:
        console.print(f"[yellow]the documented ports ({', '.join(str(p) for p in DEFAULT_PORTS.values())}, "
                      f"{DEFAULT_ENGINE_PORT}) are not all free: serving on other free ports[/]")
    ports, engine_port = fixed if fixed is not None else (None, 0)
    with console.status("starting the sandboxes and the engine, connecting the shop, importing both catalogues"):
        demo = await DemoWorld.start(seed=seed, start=DEMO_START,
                                     ports=ports or dict.fromkeys(DEFAULT_PORTS, 0), engine_port=engine_port)
    try:
        console.print(f"sandboxes: control API {demo.info['control_url']}/docs; engine {demo.engine_url} "
                      f"(SQLite in a temporary directory); connected TikTok shop "
                      f"{demo.connection.tiktok_shop_name or demo.connection.tiktok_shop_id} to "
                      f"{demo.connection.shopify_domain}; webhooks registered; API token of the demo "
                      f"admin: {demo.admin_token}")
        cast = scenarios(orders, seed)
        narrator = _Narrator(console, demo, cast)

        async def checkpoint() -> None:
            await narrator.checkpoint()

        await play(demo, cast, narrator.say, checkpoint, seed)
        views = await narrator.checkpoint()
        console.print()
        console.print(order_table(views, f"What happened to each order ({narrator.stamp()} of story time)"))
        report = await check_invariants(demo.control, demo.services, demo.connection.id, now=demo.now())
        console.print(invariant_table(report))
        unexpected = [v for v in views if v.problems()]
        ok = report.passed and not unexpected
        verdict = "[bold green]demo passed[/]" if ok else "[bold red]demo FAILED[/]"
        console.print(f"{verdict}: {sum(r.passed for r in report.results)}/{len(report.results)} invariants hold; "
                      f"{len(views) - len(unexpected)}/{len(views)} orders ended as expected "
                      f"({time.perf_counter() - began:.1f} s)")
        if keep_serving:
            await _serve_until_stopped(console, demo, rate)
        return ok
    finally:
        await demo.stop()
