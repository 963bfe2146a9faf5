"""``POST /webhooks/shipbob/{connection}``: ShipBob's webhooks for one connection.

ShipBob signs every delivery the Standard Webhooks way (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``: HMAC-SHA256 over ``id.timestamp.body`` with the subscription's
``whsec_`` secret, verified by ``adapters/shipbob/webhooks.verify_webhook``). Each connection
has its own secret (setting ``shipbob_webhook_secrets``: connection name -> secret), so the
URL names the connection: subscribe ``https://<base_url>/webhooks/shipbob/<connection name>``.

- unknown connection, or none configured for it: 404, nothing stored;
- bad, missing or stale signature: 401, nothing stored (one log line);
- signed but not a JSON object: 400, kept in the inbox with the error;
- valid: stored in the inbox (unique per ``webhook-id``: a redelivery changes nothing) and the
  order it names (``reference_id``, as the Shopify->3PL app set it) made due, one
  transaction; 200. An order topic (``order.shipped``) carries the whole order: it is also
  stored as the 3PL poll would store it (``threepl_orders``), so its tracking reaches
  Shopify and TikTok on that order's next pass without waiting for the poll.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Final

from fastapi import APIRouter, Path, Request, Response

from orderbridge.adapters.db import InboxSource, run_sync, transaction
from orderbridge.adapters.db.cancel_desk import DbEngine
from orderbridge.adapters.db.threepl_refs import connection_id_named, store_threepl_delivery
from orderbridge.adapters.shipbob import parse_webhook, verify_webhook
from orderbridge.adapters.shipbob.translate import webhook_order_view
from orderbridge.domain.observed import ThreePLView
from orderbridge.engine.threepl.poll import store_views
from orderbridge.errors import AuthError, ConfigurationError, Rejected
from orderbridge.web.problems import problem

__all__ = ["SHIPBOB_TOPIC_HEADER", "router"]

log = logging.getLogger(__name__)

SHIPBOB_TOPIC_HEADER: Final = "x-webhook-topic"
_NAME_MAX: Final = 200


def _references(payload: dict[str, Any]) -> list[str]:
    """The order references a delivery names: an Order's or a Shipment's ``reference_id``."""
    refs = [payload.get("reference_id")]
    order = payload.get("order")
    if isinstance(order, dict):
        refs.append(order.get("reference_id"))
    return [str(r) for r in refs if isinstance(r, str | int) and str(r)]


def router(db: DbEngine, clock: Callable[[], datetime], secret_for: Callable[[str], str | None],
           read_body: Callable[[Request], Awaitable[bytes]]) -> APIRouter:
    """The ShipBob webhook route (public; every delivery is checked against its signature)."""
    r = APIRouter(tags=["webhooks"])

    @r.post("/webhooks/shipbob/{connection}", response_class=Response)
    async def shipbob_webhook(
        request: Request,
        connection: str = Path(min_length=1, max_length=_NAME_MAX, pattern=r"^[^\x00-\x1f\x7f/]+$"),
    ) -> Response:
        """A ShipBob webhook for one connection: 200 once stored (duplicates too), 401 on a bad
        signature (nothing stored), 404 for a connection with no ShipBob secret, 400 for a
        signed body we cannot read (stored)."""
        secret = secret_for(connection)
        if not secret:
            return problem(404, f"no ShipBob webhook secret for connection {connection!r}")
        body = await read_body(request)
        headers = {k.lower(): v for k, v in request.headers.items()}
        now = clock()
        try:
            verify_webhook(secret, headers, body, now)
        except (AuthError, ConfigurationError) as exc:
            log.warning("shipbob webhook refused for connection %s: %s", connection, exc)
            return problem(401, "ShipBob webhook signature does not verify")
        error: str | None = None
        references: list[str] = []
        seen: tuple[ThreePLView, str | None] | None = None
        try:
            payload = parse_webhook(headers, body).payload
            references = _references(payload)
            seen = webhook_order_view(payload)  # an order topic carries the order: keep it
        except Rejected as exc:
            error = str(exc)

        def store() -> bool:
            with transaction(db) as conn:
                cid = connection_id_named(conn, connection)
                if cid is None:
                    return False
                new, due = store_threepl_delivery(
                    conn, InboxSource.THREE_PL.value, f"shipbob:{headers['webhook-id']}", connection_id=cid,
                    received_at=now, body=body, topic=headers.get(SHIPBOB_TOPIC_HEADER), headers=headers,
                    references=references, error=error)
                if new and seen is not None:  # what the 3PL poll would store (engine/threepl)
                    store_views(conn, cid, [seen], now)
            if new:
                log.info("shipbob webhook %s (%s): %d order(s) due", headers["webhook-id"],
                         headers.get(SHIPBOB_TOPIC_HEADER), len(due))
            return True

        if not await run_sync(db, store):
            return problem(404, f"no connection {connection!r}")
        if error is not None:
            return problem(400, f"stored, but unreadable: {error}")
        return Response(status_code=200)

    return r
