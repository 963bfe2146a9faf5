"""``app/uninstalled``: disconnect only once Shopify confirms our token no longer works.

Shopify signs a webhook's body, not its headers, and a genuine ``app/uninstalled`` body can
be replayed long after a store reinstalled the app. So the webhook is only a hint: for each
connection of the store that is not disconnected yet, one quick call (the shop and the
installation's scopes, one attempt, ``PROBE_TIMEOUT_SECONDS``: Shopify waits 5 s for our
answer) asks Shopify itself. Shopify revokes the token the moment the app is uninstalled:

- ``AuthError`` (HTTP 401/403, or an expiring token whose refresh Shopify refuses):
  confirmed; the connection is disconnected, with a timeline warning. (An expiring token
  whose refresh token has itself expired, after some 90 days without the engine running,
  counts as refused too: that connection could not work anyway.)
- success: the app is still installed: nothing changes; a timeline warning says a
  forged or replayed ``app/uninstalled`` was ignored, and the delivery keeps that reason.
- any other failure (Shopify unreachable, throttled): undecided; the webhook is answered
  503 so that Shopify delivers it again (a redelivery is checked again).
- no Shopify token stored: nothing to ask with; not acted on (said on the delivery).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from orderbridge.adapters.db import (
    ConnectionStatus,
    EventKind,
    InboxSource,
    connections,
    events,
    inbox,
    run_sync,
    transaction,
)
from orderbridge.adapters.db.connections import ConnectionRow
from orderbridge.engine.ports import Clients
from orderbridge.errors import AuthError, OrderBridgeError
from orderbridge.logs import get_logger

__all__ = ["PROBE_TIMEOUT_SECONDS", "Verdict", "confirm_uninstall"]

log = get_logger(__name__)

PROBE_TIMEOUT_SECONDS: Final = 3.0
# HTTP statuses with which Shopify refuses a token (ACCESS_DENIED in a 200 is not one).
REFUSED_STATUSES: Final = (401, 403)


class Verdict(StrEnum):
    """What asking Shopify about one connection showed."""

    CONFIRMED = "confirmed"  # the token is refused: the app is gone; disconnected
    STILL_INSTALLED = "still_installed"  # the token works: the webhook is not acted on
    UNDECIDED = "undecided"  # Shopify could not say now: ask again on the redelivery
    NO_TOKEN = "no_token"  # nothing to ask with: not acted on


async def _probe(services: Clients, row: ConnectionRow) -> tuple[Verdict, str]:
    if not row.shopify_token:
        return Verdict.NO_TOKEN, "no Shopify token is stored to confirm it with"
    try:
        client = services.shopify_client(row, timeout=PROBE_TIMEOUT_SECONDS, retries=False)
        await client.shop_info()
    except AuthError as exc:
        if exc.status in REFUSED_STATUSES or exc.api == "shopify_oauth":
            return Verdict.CONFIRMED, f"Shopify refuses the token ({exc})"
        # ACCESS_DENIED on a field: the token was accepted, so the app is installed.
        return Verdict.STILL_INSTALLED, f"Shopify accepts the token (but denied a field: {exc}). Not acted on"
    except OrderBridgeError as exc:
        return Verdict.UNDECIDED, f"Shopify could not be asked ({type(exc).__name__}: {exc})"
    return Verdict.STILL_INSTALLED, "Shopify still accepts the token: forged or replayed? Not acted on"


def _record(services: Clients, row: ConnectionRow, domain: str, verdict: Verdict, why: str,
            inbox_key: str) -> None:
    now = services.clock.now()
    with transaction(services.db) as conn:
        if verdict is Verdict.CONFIRMED:
            connections.update_connection(conn, services.cipher, row.id, now=now,
                                          status=ConnectionStatus.DISCONNECTED)
            events.append(conn, None, EventKind.WARNING,
                          f"The app was uninstalled from {domain} ({why}): the connection is disconnected; "
                          "reinstall with `orderbridge connect shopify`", at=now, connection_id=row.id)
            error = None
        else:
            events.append(conn, None, EventKind.WARNING,
                          f"app/uninstalled for {domain} not acted on: {why}",
                          {"verdict": verdict.value}, at=now, connection_id=row.id)
            error = f"app/uninstalled not acted on: {why}"
        inbox.set_error(conn, InboxSource.SHOPIFY.value, inbox_key, error)


async def confirm_uninstall(services: Clients, connection_ids: tuple[int, ...], domain: str,
                            inbox_key: str) -> list[Verdict]:
    """Ask Shopify about each connection and act on the answer (see the module docstring)."""
    verdicts: list[Verdict] = []
    for cid in connection_ids:
        try:
            row = await run_sync(services.db, _load, services, cid)
        except OrderBridgeError as exc:  # a token the key cannot open: that connection only
            log.warning("shopify_app_uninstalled", connection_id=cid, shop=domain, verdict=Verdict.UNDECIDED.value,
                        reason=str(exc))
            verdicts.append(Verdict.UNDECIDED)
            continue
        if row is None or row.status == ConnectionStatus.DISCONNECTED:
            continue
        verdict, why = await _probe(services, row)
        log.warning("shopify_app_uninstalled", connection_id=cid, shop=domain, verdict=verdict.value, reason=why)
        if verdict is not Verdict.UNDECIDED:
            await run_sync(services.db, _record, services, row, domain, verdict, why, inbox_key)
        verdicts.append(verdict)
    return verdicts


def _load(services: Clients, cid: int) -> ConnectionRow | None:
    with transaction(services.db, write=False) as conn:
        return connections.get_connection(conn, services.cipher, cid)
