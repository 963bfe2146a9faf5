from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.unit.tiktok.fakes import Harness, make_harness


@pytest.fixture
async def make() -> AsyncIterator[Callable[..., Harness]]:
    """Build a client against a fake TikTok (``make_harness`` arguments); closes them."""
    built: list[Harness] = []

    def factory(*replies: Any, **kw: Any) -> Harness:
        h = make_harness(*replies, **kw)
        built.append(h)
        return h

    yield factory
    for h in built:
        await h.http.aclose()
