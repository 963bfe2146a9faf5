"""Print the control API's OpenAPI document: ``python -m orderbridge.sandbox.openapi``.

docs/sandbox-openapi.json is this output; a test keeps the two equal.
"""

from __future__ import annotations

import json
from typing import Any

from orderbridge.sandbox.control import build_control_app
from orderbridge.sandbox.runner import SandboxWorld

__all__ = ["control_openapi"]


def control_openapi() -> dict[str, Any]:
    world = SandboxWorld()
    app = build_control_app(
        clock=world.clock, scheduler=world.scheduler, faults=world.faults,
        parts=world.parts, info=dict,
    )
    spec: dict[str, Any] = app.openapi()
    world.scheduler.close()
    return spec


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(control_openapi(), indent=1, sort_keys=True))
