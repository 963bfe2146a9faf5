"""The two surfaces, probed as an attacker would (issue 8): every probe is refused with a
4xx problem, never served and never a 500."""

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import httpx
from sqlalchemy import select

from orderbridge.adapters.db import links, sku_links, transaction
from orderbridge.adapters.db.operators import Role, list_audit, list_tokens, revoke_token
from orderbridge.adapters.db.tables import inbox as inbox_table
from orderbridge.bootstrap import Services
from orderbridge.clock import ManualClock
from orderbridge.web.app import create_app
from tests.integration.web.conftest import bearer, token_for
from tests.integration.web.test_api import seed
from tests.integration.web.test_shopify_webhooks import hmac_of
from tests.integration.web.test_tiktok_webhooks import sign as tiktok_sign

PROBLEM = "application/problem+json"


def _is_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["detail"]


async def test_unauthenticated_reads_and_writes_are_refused(services: Services, client: httpx.AsyncClient) -> None:
    ids = seed(services)
    for path in ("/api/orders/576001", "/api/orders", "/api/connections", "/api/exceptions",
                 "/openapi.json", "/docs"):
        response = await client.get(path)
        _is_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "576001" not in response.text
    refused = await client.post(f"/api/exceptions/{ids['bad']}/action", json={"action": "cancel_on_tiktok"})
    _is_problem(refused, 401)
    _is_problem(await client.post("/api/orders/576001/retry"), 401)
    assert (await client.get("/healthz")).status_code == 200  # the public surface stays public
    with transaction(services.db, write=False) as conn:
        mem = links.get_link(conn, ids["a"])
        assert mem is not None
        assert "overrides" not in mem.memory
        audited = list_audit(conn)
    assert [(a.actor, a.status) for a in audited][:2] == [("anonymous", 401), ("anonymous", 401)]


async def test_a_viewer_reads_but_cannot_act(services: Services, client: httpx.AsyncClient) -> None:
    ids = seed(services)
    viewer = bearer(token_for(services, Role.VIEWER))
    assert (await client.get("/api/orders/576001", headers=viewer)).status_code == 200
    assert (await client.get("/openapi.json", headers=viewer)).status_code == 200
    refused = await client.post(f"/api/exceptions/{ids['other']}/dismiss", headers=viewer)
    _is_problem(refused, 403)
    _is_problem(await client.post("/api/orders/576001/retry", headers=viewer), 403)
    admin = bearer(token_for(services, Role.ADMIN))
    assert (await client.post("/api/orders/576001/retry", headers=admin)).status_code == 200


async def test_revoked_expired_and_unknown_tokens_are_refused(services: Services, client: httpx.AsyncClient) -> None:
    seed(services)
    token = token_for(services, Role.OPERATOR, days=1)
    assert (await client.get("/api/orders", headers=bearer(token))).status_code == 200
    clock = services.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(days=1, seconds=1))
    _is_problem(await client.get("/api/orders", headers=bearer(token)), 401)
    fresh = token_for(services, Role.OPERATOR)
    assert (await client.get("/api/orders", headers=bearer(fresh))).status_code == 200
    with transaction(services.db) as conn:
        [*_, newest] = list_tokens(conn)
        assert newest.last_used_at == clock.now()  # the use is recorded; only the hash is stored
        assert fresh not in json.dumps([t.token_hash for t in list_tokens(conn)])
        assert revoke_token(conn, newest.id, now=clock.now())
    _is_problem(await client.get("/api/orders", headers=bearer(fresh)), 401)
    _is_problem(await client.get("/api/orders", headers=bearer("obt_guessed")), 401)
    _is_problem(await client.get("/api/orders", headers={"Authorization": "Basic YTpi"}), 401)


async def test_failed_token_checks_are_rate_limited_per_client(services: Services,
                                                                client: httpx.AsyncClient) -> None:
    good = token_for(services, Role.VIEWER)
    limit = services.settings.auth_failures_per_minute
    for _ in range(limit):
        _is_problem(await client.get("/api/orders", headers=bearer("obt_wrong")), 401)
    blocked = await client.get("/api/orders", headers=bearer(good))
    _is_problem(blocked, 429)
    assert blocked.headers["retry-after"] == "60"
    clock = services.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(seconds=61))
    assert (await client.get("/api/orders", headers=bearer(good))).status_code == 200


async def test_cross_site_posts_and_foreign_hosts_are_refused(services: Services, api: httpx.AsyncClient) -> None:
    ids = seed(services)
    evil = await api.post(f"/api/exceptions/{ids['other']}/dismiss", headers={"Origin": "http://evil.example"})
    _is_problem(evil, 403)
    form = await api.post("/api/orders/576001/retry", headers={"Sec-Fetch-Site": "cross-site"})
    _is_problem(form, 403)
    same = await api.post("/api/orders/576001/retry", headers={"Origin": "http://orderbridge.test"})
    assert same.status_code == 200
    _is_problem(await api.get("/api/orders", headers={"Host": "evil.example"}), 400)
    _is_problem(await api.post("/api/orders/576001/retry", headers={"Host": "evil.example:8000"}), 400)
    assert (await api.get("/api/orders", headers={"Host": "127.0.0.1:8000"})).status_code == 200
    assert (await api.get("/healthz", headers={"Host": "10.0.0.7:8000"})).status_code == 200  # probes
    with transaction(services.db, write=False) as conn:
        exc_status = conn.execute(select(inbox_table.c.id)).all()
        audited = list_audit(conn)
    assert exc_status == []
    assert ("anonymous", 403) in [(a.actor, a.status) for a in audited]  # refused before the token is read
    assert ("olive", 200) in [(a.actor, a.status) for a in audited]


async def test_security_headers_and_no_cors(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/orders", headers={"Origin": "http://evil.example"})
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert "access-control-allow-origin" not in response.headers
    preflight = await api.options("/api/orders", headers={"Origin": "http://evil.example",
                                                         "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


async def test_bodies_are_bounded(services: Services, api: httpx.AsyncClient) -> None:
    seed(services)
    huge = b'{"connection":"main","tiktok_sku":"1","variant_id":"' + b"x" * (20 * 1024 * 1024) + b'"}'
    response = await api.post("/api/sku-links", content=huge, headers={"Content-Type": "application/json"})
    _is_problem(response, 413)

    async def chunked() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"x" * 4096

    streamed = await api.post("/api/sku-links", content=chunked(), headers={"Content-Type": "application/json"})
    _is_problem(streamed, 413)  # no Content-Length: refused once the bytes received pass the bound
    nested = await api.post("/api/exceptions/1/action", content=b'{"action":' + b"[" * 500 + b"]" * 500 + b"}",
                            headers={"Content-Type": "application/json"})
    _is_problem(nested, 400)
    with transaction(services.db, write=False) as conn:
        assert sku_links.list_sku_links(conn, 1) == []


async def test_ids_and_text_are_shape_checked(services: Services, api: httpx.AsyncClient) -> None:
    seed(services)
    passwd = await api.post("/api/sku-links", json={"connection": "main", "tiktok_sku": "1",
                                                    "variant_id": "../../etc/passwd"})
    _is_problem(passwd, 422)
    assert passwd.json()["errors"][0]["loc"][-1] == "variant_id"
    for bad in ("/api/exceptions/99999999999999999999999999/action", "/api/exceptions/-1/action",
                "/api/exceptions/0/dismiss"):
        response = await api.post(bad, json={"action": "dismiss"})
        assert 400 <= response.status_code < 500, (bad, response.status_code)
    _is_problem(await api.get("/api/orders/" + "9" * 40), 422)
    _is_problem(await api.get("/api/orders/..%2F..%2Fetc"), 404)  # no such route
    big = await api.get("/api/orders", params={"connection": "9" * 30})
    _is_problem(big, 404)
    _is_problem(await api.get("/api/orders", params={"connection": "a\nb"}), 422)
    long_reason = await api.post("/api/exceptions/1/action", json={"action": "cancel_on_tiktok", "reason": "r" * 501})
    _is_problem(long_reason, 422)
    extra = await api.post("/api/exceptions/1/action", json={"action": "dismiss", "admin": True})
    _is_problem(extra, 422)
    _is_problem(await api.post("/api/exceptions/1/action", content=b"{not json",
                               headers={"Content-Type": "application/json"}), 422)


async def test_deep_signed_webhooks_are_stored_and_answered_400(services: Services) -> None:
    body = b'{"id":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    roomy = replace(services, settings=services.settings.model_copy(update={"webhook_max_body_bytes": 1_048_576}))
    shopify = {"X-Shopify-Hmac-Sha256": hmac_of(body), "X-Shopify-Topic": "orders/updated",
               "X-Shopify-Shop-Domain": "m.myshopify.com", "X-Shopify-Event-Id": "deep-1",
               "Content-Type": "application/json"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(roomy)),
                                 base_url="http://orderbridge.test") as http:
        from_shopify = await http.post("/webhooks/shopify", content=body, headers=shopify)
        from_tiktok = await http.post("/webhooks/tiktok", content=body,
                                      headers={"Authorization": tiktok_sign(body)})
    assert (from_shopify.status_code, from_tiktok.status_code) == (400, 400), from_shopify.text
    assert "deeper" in from_shopify.text
    with transaction(services.db, write=False) as conn:
        rows = conn.execute(select(inbox_table).order_by(inbox_table.c.id)).all()
    assert [(r.source, r.body == body) for r in rows] == [("shopify", True), ("tiktok", True)]
    assert all(r.error and "deeper" in r.error for r in rows)


async def test_a_20_mib_webhook_is_refused_before_it_is_read(client: httpx.AsyncClient) -> None:
    response = await client.post("/webhooks/shopify", content=b"x" * (20 * 1024 * 1024))
    _is_problem(response, 413)
