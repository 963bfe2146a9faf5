"""The project's copies of TikTok's documented webhook examples (tests/data), as bodies."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data" / "tiktok_webhook_examples.json"
WEBHOOKS: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))


def variants(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The example as documented, with every optional field present, and without each
    optional field (envelope and data), one at a time and all at once."""
    optional_env = [k for k in WEBHOOKS["envelope_optional"]]
    optional_data = list(spec["optional"])
    full = json.loads(json.dumps(spec["example"]))
    for key in optional_env:
        full.setdefault(key, f"7399{spec['type']:015d}")
    out: list[tuple[str, dict[str, Any]]] = [("as documented", spec["example"]), ("every field", full)]
    fields = [("envelope", k) for k in optional_env] + [("data", k) for k in optional_data]
    for n in (1, len(fields)):
        for combo in itertools.combinations(fields, n):
            body = json.loads(json.dumps(full))
            for where, key in combo:
                (body if where == "envelope" else body["data"]).pop(key, None)
            out.append(("without " + ",".join(k for _, k in combo), body))
    return out


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()
