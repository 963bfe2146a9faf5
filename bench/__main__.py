"""Run every benchmark and write docs/benchmarks.md.

``--quick``: a smoke run (smaller, prints only). ``--only NAME[,NAME]``: just those
benchmarks (prints only): clients, latency, release, flash, scale (PostgreSQL and K worker
processes: only when named). ``--flash-orders N``: the flash sale with N orders instead of
5,000 (placed at the same 83/s).
"""

from __future__ import annotations

import argparse
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from bench import clients, engine

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"

INTRO = """# Benchmarks

Speed and memory goals are checked here, not by timed tests. Every figure comes from
`make bench` (`python -m bench`, see `python -m bench --help`), on the machine named below;
loopback HTTP between the clients and the sandboxes. The client benchmarks run the
sandboxes in the same process (another thread), so their figures include both sides'
Python. The engine benchmarks run the sandboxes in a child process, so the engine's CPU and
memory figures are its own (plus the small benchmark driver, which shares its process).
Re-run after changing a client, a sandbox or the engine, and commit the new numbers. A full
`make bench` rewrites this file; `--only` and `--quick` runs only print. The flash sale is
paced by Shopify's 100 points/s: at ~48 points per order the full 5,000-order run takes
about 45 minutes; `python -m bench --only flash --flash-orders 500` about 5.
"""

NAMES = ("clients", "latency", "release", "flash", "scale")


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
                        help="the flash sale with N orders instead of 5,000 (placed at the same 83/s)")
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    quick, only = args.quick, args.only
    results = clients.run(quick=quick) if only is None or "clients" in only else []
    results += engine.run(quick=quick, only=only, flash_orders=args.flash_orders)
    if only is not None and "scale" in only:  # needs PostgreSQL: only when named
        from bench import engine_scale

        results += engine_scale.run(quick=quick)
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
