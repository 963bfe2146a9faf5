"""Run every benchmark and write docs/benchmarks.md (``make bench``).

``--quick``: a smoke run (smaller, prints only). ``--only NAME[,NAME]``: just those
benchmarks (prints only): clients, latency, release, flash, mixed, scale, dashboard, stock.
``--flash-orders N``: the flash sale with N orders instead of 2,000 (placed at the same 83/s).
``--dashboard-orders N``: seed at most N orders for the dashboard's pages (default a million,
as many as fit in a minute).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from bench import clients, engine
from bench.report import DOC, FINDINGS, commit, machine, render

NAMES = ("clients", "latency", "release", "flash", "mixed", "scale", "dashboard", "stock")


def _names(value: str) -> set[str]:
    chosen = set(value.split(","))
    if not chosen <= set(NAMES):
        raise argparse.ArgumentTypeError(
            f"unknown benchmark(s) {sorted(chosen - set(NAMES))}; choose from {', '.join(NAMES)}")
    return chosen


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run the benchmarks; with neither --quick nor --only, rewrite docs/benchmarks.md.",
    )
    parser.add_argument("--quick", action="store_true", help="a smaller smoke run (prints only)")
    parser.add_argument("--only", type=_names, metavar="NAME[,NAME]",
                        help=f"just these benchmarks (prints only): {', '.join(NAMES)}")
    parser.add_argument("--flash-orders", type=int, metavar="N",
                        help="the flash sale with N orders instead of 2,000 (placed at the same 83/s)")
    parser.add_argument("--dashboard-orders", type=int, metavar="N",
                        help="seed at most N orders for the dashboard's pages (default 1,000,000)")
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    quick, only = args.quick, args.only
    started, commit_id = datetime.now(UTC), commit()
    results = clients.run(quick=quick) if only is None or "clients" in only else []
    results += engine.run(quick=quick, only=only, flash_orders=args.flash_orders)
    if only is None or "scale" in only:  # PostgreSQL (the test server) and K processes
        from bench import engine_scale

        results += engine_scale.run(quick=quick)
    if only is None or "dashboard" in only:  # bulk-seeded orders, the pages timed in-process
        from bench import dashboard

        results += dashboard.run(quick=quick, orders=args.dashboard_orders)
    if only is None or "stock" in only:  # the live burst: Shopify stock -> TikTok (issue 12)
        from bench import engine_stock

        results += engine_stock.run(quick=quick)
    full = not quick and only is None  # a partial run never overwrites the committed figures
    findings = FINDINGS.read_text(encoding="utf-8") if full and FINDINGS.exists() else None
    text = render(results, command="python -m bench " + " ".join(sys.argv[1:]) if sys.argv[1:] else "make bench",
                  started=started, finished=datetime.now(UTC), commit_id=commit_id, machine_id=machine(),
                  findings=findings)
    if full:
        DOC.write_text(text, encoding="utf-8")
    print(text)


main()
