"""docs/sandbox.md and docs/sandbox-openapi.json describe the control API as it is."""

import json
from pathlib import Path

from orderbridge.sandbox.openapi import control_openapi

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_committed_openapi_document_is_current() -> None:
    committed = json.loads((DOCS / "sandbox-openapi.json").read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(control_openapi())), (
        "regenerate: python -m orderbridge.sandbox.openapi > docs/sandbox-openapi.json"
    )


def test_every_control_route_is_documented() -> None:
    text = (DOCS / "sandbox.md").read_text(encoding="utf-8")
    routes = [f"{m.upper()} {p}" for p, ops in control_openapi()["paths"].items() for m in ops]
    missing = [r for r in routes if f"`{r}`" not in text]
    assert missing == []
