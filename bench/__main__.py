"""Run every benchmark and write docs/benchmarks.md.

``--quick``: a smoke run (smaller, prints only). ``--only NAME[,NAME]``: just those
benchmarks (prints only): clients, latency, release, flash. ``--flash-orders N``: the
flash sale with N orders instead of 5,000 (placed at the same 83/s).
"""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import clients, engine

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"

INTRO = """# Benchmarks

Speed and memory goals are checked here, not by timed tests. Every figure comes from
`make bench` (`python -m bench`), on the machine named below; loopback HTTP between the
clients and the sandboxes, which run in the same process (another thread), so figures
include both sides' Python. Re-run after changing a client, a sandbox or the engine, and
commit the new numbers. The engine benchmarks run the sandboxes in a child process, so
the engine's CPU and memory figures are its own. The flash sale is paced by Shopify's
100 points/s: at the engine's measured ~100 points per order, the full `make bench`
(5,000 orders) takes about 90 minutes; `python -m bench --flash-orders 500` about 15.
"""

NAMES = ("clients", "latency", "release", "flash")


def _only() -> set[str] | None:
    if "--only" not in sys.argv:
        return None
    index = sys.argv.index("--only")
    if index + 1 >= len(sys.argv):
        sys.exit(f"--only needs one of: {', '.join(NAMES)}")
    chosen = set(sys.argv[index + 1].split(","))
    if not chosen <= set(NAMES):
        sys.exit(f"unknown benchmark(s) {sorted(chosen - set(NAMES))}; choose from {', '.join(NAMES)}")
    return chosen


def main() -> None:
    quick = "--quick" in sys.argv
    only = _only()
    results = clients.run(quick=quick) if only is None or "clients" in only else []
    flash = int(sys.argv[sys.argv.index("--flash-orders") + 1]) if "--flash-orders" in sys.argv else None
    results += engine.run(quick=quick, only=only, flash_orders=flash)
    lines = [INTRO, f"Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.python_implementation()} "
             f"{platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}"
             f"{' (quick run)' if quick else ''}.", ""]
    for result in results:
        lines.append(f"## {result.name}\n")
        lines.append("| figure | value |\n|---|---|")
        lines.extend(f"| {k} | {v} |" for k, v in result.figures.items())
        lines.append(f"\nReproduce: `{result.command}`\n")
    text = "\n".join(lines)
    if not quick and only is None:  # a partial run never overwrites the committed figures
        DOC.write_text(text, encoding="utf-8")
    print(text)


main()
