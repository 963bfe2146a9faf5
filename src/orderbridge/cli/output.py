"""``--json`` on the read commands: the same facts as the tables, as one JSON document on
stdout (plain ``print``: no colour, no wrapping), for scripts and monitoring."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Annotated, Any

import typer

__all__ = ["JsonOpt", "emit", "row_dict"]

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
