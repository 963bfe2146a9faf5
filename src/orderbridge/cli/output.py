"""What the commands print besides their tables: ``--json`` on the read commands (the same
facts as the tables, as one JSON document on stdout: plain ``print``, no colour, no
wrapping, for scripts and monitoring) and progress displays for long reads."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

__all__ = ["JsonOpt", "catalogue_progress", "emit", "row_dict"]

JsonOpt = Annotated[bool, typer.Option("--json", help="print machine-readable JSON instead of a table")]


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)  # enums, Decimals, paths: their text


def row_dict(row: Any, *fields: str) -> dict[str, Any]:
    """``fields`` of a dataclass row (all of them when none are named)."""
    names = fields or tuple(f.name for f in dataclasses.fields(row))
    return {name: getattr(row, name) for name in names}


def emit(document: Any) -> None:
    """Print ``document`` as indented JSON (datetimes in ISO 8601)."""
    print(json.dumps(document, indent=2, default=_default, ensure_ascii=False))


@contextlib.contextmanager
def catalogue_progress(console: Console) -> Iterator[Callable[[str, int], None]]:
    """A live count of catalogue items read per side (the import can take a while on a big shop).

    Yields the ``progress(side, count)`` callback ``engine.skus.import_catalogues`` takes. On a
    terminal it is a spinner with counts; elsewhere (a pipe, CI) rich prints nothing.
    """
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), MofNCompleteColumn(),
                  console=console, transient=True) as bar:
        tasks = {"tiktok": bar.add_task("TikTok products", total=None),
                 "shopify": bar.add_task("Shopify variants", total=None)}

        def tell(side: str, count: int) -> None:
            bar.update(tasks[side], completed=count)

        yield tell
