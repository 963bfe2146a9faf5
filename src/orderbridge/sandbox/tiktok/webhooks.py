"""Webhook events: envelope, signature, delivery through the shared dispatcher.

Like TikTok's, a notification does not always carry every field: each shop's
``webhook_optional_fields`` setting says which optional ones are left out (by default what
TikTok's documented examples leave out: the address-change webhook has no
``tts_notification_id``), so a client that requires one is caught.
"""

from __future__ import annotations

import json
import random
from typing import Any

from orderbridge.clock import Clock, to_unix
from orderbridge.sandbox.common.webhooks import Delivery, WebhookDispatcher
from orderbridge.sandbox.tiktok.constants import (
    DOCUMENTED_OMISSIONS,
    OPTIONAL_DATA_FIELDS,
    OPTIONAL_ENVELOPE_FIELDS,
    EventType,
    OptionalFields,
)
from orderbridge.sandbox.tiktok.signing import webhook_signature
from orderbridge.sandbox.tiktok.state import Shop, World

__all__ = ["EventEmitter"]


class EventEmitter:
    """Builds and queues the webhook of one event for a shop's subscription."""

    def __init__(self, world: World, clock: Clock, dispatcher: WebhookDispatcher) -> None:
        self.world = world
        self.clock = clock
        self.dispatcher = dispatcher
        self._rng = random.Random(f"{world.seed}:webhook-fields")

    def _omitted(self, shop: Shop, event: EventType) -> set[str]:
        optional = OPTIONAL_ENVELOPE_FIELDS + OPTIONAL_DATA_FIELDS.get(event, ())
        mode = shop.webhook_optional_fields
        if mode is OptionalFields.ALL_PRESENT:
            return set()
        if mode is OptionalFields.ALL_OMITTED:
            return set(optional)
        if mode is OptionalFields.RANDOM:
            return {name for name in optional if self._rng.random() < 0.5}
        return set(DOCUMENTED_OMISSIONS.get(event, ()))

    def emit(self, shop: Shop, event: EventType, data: dict[str, Any]) -> Delivery | None:
        """Send ``data`` as an ``event`` webhook if the shop subscribed to it."""
        sub = shop.webhooks.get(int(event))
        if sub is None:
            return None
        app = self.world.apps.get(sub.app_key)
        if app is None:
            return None
        omitted = self._omitted(shop, event)
        envelope: dict[str, Any] = {
            "type": int(event),
            "tts_notification_id": self.world.ids.next("notification"),
            "shop_id": shop.id,
            "timestamp": to_unix(self.clock.now()),
            "data": {k: v for k, v in data.items() if k not in omitted},
        }
        for name in omitted.intersection(OPTIONAL_ENVELOPE_FIELDS):
            envelope.pop(name)
        body = json.dumps(envelope, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "Authorization": webhook_signature(app.app_key, app.app_secret, body),
        }
        return self.dispatcher.enqueue(sub.address, event.name, body, headers)
