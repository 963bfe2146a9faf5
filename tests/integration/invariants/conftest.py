"""The invariant checker against the engine harness of engine_runtime (SQLite is enough here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orderbridge.adapters.db import migrate
from tests.integration.engine_runtime.conftest import harness, sandboxes

__all__ = ["harness", "migrated_db_url", "sandboxes"]


@pytest.fixture
def migrated_db_url(tmp_path: Path) -> str:
    """A fresh SQLite database at head (overrides the two-dialect fixture)."""
    url = f"sqlite:///{tmp_path / 'invariants.db'}"
    migrate.upgrade(url)
    return url
