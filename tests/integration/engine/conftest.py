"""The sandbox fixtures of tests/integration/sandboxes, shared with the engine tests."""

from tests.integration.sandboxes.conftest import T0, Kit, kit, served

__all__ = ["T0", "Kit", "kit", "served"]
