"""The client's TikTok API versions are chosen in one place (adapters/tiktok/versions.py)."""

from __future__ import annotations

import inspect
import re

import pytest

from orderbridge.adapters.tiktok import _catalog, client
from orderbridge.adapters.tiktok.versions import ENDPOINT_VERSIONS, endpoint_version, versioned_path

CALL = re.compile(r'self\._call\(\s*"([\w.]+)",\s*"[A-Z]+",\s*(f?)"([^"]+)"')


def _calls() -> list[tuple[str, str, str]]:
    return [m.groups() for module in (client, _catalog) for m in CALL.finditer(inspect.getsource(module))]


def test_every_call_takes_its_version_from_the_table() -> None:
    calls = _calls()
    assert len(calls) == len(ENDPOINT_VERSIONS)
    for operation, f_string, template in calls:
        assert not f_string, operation
        assert operation in ENDPOINT_VERSIONS, operation
        # No version written into a path: the segment after the category is {version}.
        assert template.split("/")[2] == "{version}", template


def test_the_versions_the_engine_uses() -> None:
    assert endpoint_version("orders.get") == "202507"  # the newest documented Get Order Detail
    assert endpoint_version("orders.add_external_references") == "202406"
    assert {v for k, v in ENDPOINT_VERSIONS.items() if k not in ("orders.get", "orders.add_external_references")} \
        == {"202309"}


def test_versioned_path() -> None:
    assert versioned_path("orders.get", "/order/{version}/orders") == "/order/202507/orders"
    assert versioned_path("orders.get", "/order/202309/orders") == "/order/202309/orders"
    with pytest.raises(KeyError):
        versioned_path("orders.unknown", "/order/{version}/orders")
