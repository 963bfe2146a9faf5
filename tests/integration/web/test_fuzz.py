"""Fuzzing both surfaces from the app's own OpenAPI document: no input gives a 5xx.

Schemathesis generates requests for every operation of ``/openapi.json`` (fetched over
HTTP with an admin's token): data that fits the schema and data that does not. Every request
carries a valid admin token, so the private routes run their handlers rather than stopping at
401. The app is served by uvicorn on a free port, connected to the sandboxes (a SKU link or an
action on an order calls them), on SQLite and PostgreSQL. Bounded: ``EXAMPLES`` per operation
and mode, derandomised (the same requests every run), no shrinking; every 5xx is collected
and reported at once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any, Final

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from orderbridge.adapters.db import links, order_exceptions, transaction
from orderbridge.adapters.db.operators import Role
from orderbridge.engine.sandbox_connection import connect_sandbox, sandbox_settings
from orderbridge.engine.skus import import_catalogues
from tests.integration.web.conftest import SandboxKit, bearer, serve_app, token_for
from tests.integration.web.test_shopify_webhooks import hmac_of
from tests.integration.web.test_tiktok_webhooks import sign

# Per operation and generation mode: 2 x 12 x 16 operations, ~15 s per database on an idle laptop.
EXAMPLES: Final = 12
MODES: Final = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
_REQUEST_KEYS: Final = frozenset({"method", "url", "headers", "files", "data", "params", "json", "cookies"})


def _run(operation: Any, mode: schemathesis.GenerationMode, call: Callable[[Any], None]) -> None:
    """``call`` each case Hypothesis draws for one operation in one mode."""

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def probe(case: Any) -> None:
        call(case)

    try:
        probe()
    except Unsatisfiable:  # an operation with no input cannot be given invalid input
        if mode is not schemathesis.GenerationMode.NEGATIVE:
            raise


def _send(session: requests.Session, case: Any, base_url: str, headers: dict[str, str],
          secrets: dict[str, str]) -> requests.Response:
    """Send a case as schemathesis would, but with webhook bodies signed as the vendors sign
    them, so that generated envelopes get past the signature check into the intake."""
    kwargs = case.as_transport_kwargs(base_url=base_url, headers=headers)
    request = requests.Request(**{k: v for k, v in kwargs.items() if k in _REQUEST_KEYS}).prepare()
    body = request.body or b""
    body = body.encode() if isinstance(body, str) else body
    if case.operation.path == "/webhooks/tiktok":
        request.headers["Authorization"] = sign(body, secrets["tiktok_app_key"], secrets["tiktok_app_secret"])
    elif case.operation.path == "/webhooks/shopify":
        request.headers["X-Shopify-Hmac-Sha256"] = hmac_of(body, secrets["shopify_client_secret"])
    return session.send(request, timeout=30)


def _fuzz(document: dict[str, Any], base_url: str, token: str, secrets: dict[str, str]) -> tuple[Counter[str], list[str]]:
    """Every operation, both modes; returns the statuses per operation and each 5xx."""
    schema = schemathesis.openapi.from_dict(document)
    session = requests.Session()
    headers = bearer(token)
    seen: Counter[str] = Counter()
    failures: list[str] = []

    def call(case: Any) -> None:
        response = _send(session, case, base_url, headers, secrets)
        seen[f"{case.method} {case.operation.path} {response.status_code}"] += 1
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} query={case.query} body={case.body!r:.200} "
                            f"-> {response.status_code} {response.text[:200]}")

    for result in schema.get_all_operations():
        for mode in MODES:
            _run(result.ok(), mode, call)
    return seen, failures


async def test_no_generated_request_gets_a_5xx(sbx: SandboxKit) -> None:
    services = sbx.services
    row = await connect_sandbox(services, sbx.info)
    await import_catalogues(services, row)
    now = services.clock.now()
    with transaction(services.db) as conn:  # something for the ids to find (1 is drawn often)
        link, _ = links.get_or_create_link(conn, row.id, "576000000000000001", now)
        order_exceptions.raise_exception(conn, link.id, "TOTALS_MISMATCH", "error", "totals differ", None,
                                         "retry", now=now)
    token = token_for(services, Role.ADMIN)
    async with serve_app(services) as http:
        document = (await http.get("/openapi.json", headers=bearer(token))).json()
        paths = set(document["paths"])
        assert {"/webhooks/tiktok", "/webhooks/shopify", "/readyz", "/api/orders/{tiktok_order_id}"} <= paths
        secrets = sandbox_settings(sbx.info)
        seen, failures = await asyncio.to_thread(_fuzz, document, str(http.base_url).rstrip("/"), token, secrets)
    assert failures == []
    # The fuzz reached the handlers, not only the gates: signed webhooks were read (stored,
    # 200, or unreadable, 400), and private routes answered with data.
    assert seen["POST /webhooks/tiktok 200"]
    assert seen["POST /webhooks/tiktok 400"]
    assert seen["POST /webhooks/shopify 200"]
    assert seen["GET /api/orders 200"]
    assert seen["POST /api/sku-links 404"]
