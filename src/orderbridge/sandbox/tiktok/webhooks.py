"""Webhook events: envelope, signature, delivery through the shared dispatcher."""

from __future__ import annotations

import json
from typing import Any

from orderbridge.clock import Clock, to_unix
from orderbridge.sandbox.common.webhooks import Delivery, WebhookDispatcher
from orderbridge.sandbox.tiktok.constants import EventType
from orderbridge.sandbox.tiktok.signing import webhook_signature
from orderbridge.sandbox.tiktok.state import Shop, World

__all__ = ["EventEmitter"]


class EventEmitter:
    """Builds and queues the webhook of one event for a shop's subscription."""

    def __init__(self, world: World, clock: Clock, dispatcher: WebhookDispatcher) -> None:
        self.world = world
        self.clock = clock
        self.dispatcher = dispatcher

    def emit(self, shop: Shop, event: EventType, data: dict[str, Any]) -> Delivery | None:
        """Send ``data`` as an ``event`` webhook if the shop subscribed to it."""
        sub = shop.webhooks.get(int(event))
        if sub is None:
            return None
        app = self.world.apps.get(sub.app_key)
        if app is None:
            return None
        envelope = {
            "type": int(event),
            "tts_notification_id": self.world.ids.next("notification"),
            "shop_id": shop.id,
            "timestamp": to_unix(self.clock.now()),
            "data": data,
        }
        body = json.dumps(envelope, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "Authorization": webhook_signature(app.app_key, app.app_secret, body),
        }
        return self.dispatcher.enqueue(sub.address, event.name, body, headers)
