"""Where SLA alerts go: a JSON webhook (Slack-compatible) and email over SMTP.

Each channel sends one ``Alert`` and raises ``AlertDeliveryError`` when it could not; the
caller (``engine/sla_alerts.py``) retries with back-off and makes the failure visible.

- ``WebhookChannel`` POSTs ``{"text": …, "subject": …, **fields}``: Slack incoming webhooks
  read ``text`` and ignore the rest; any other receiver gets the structured fields.
- ``EmailChannel`` sends a plain-text message with the standard library's ``smtplib``
  (STARTTLS and login when configured) in a thread, so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Protocol

import httpx

__all__ = ["Alert", "AlertChannel", "AlertDeliveryError", "EmailChannel", "WebhookChannel"]

DEFAULT_SEND_TIMEOUT_SECONDS = 10.0
# An error body is quoted in the failure this far, no further (it lands in logs).
ERROR_BODY_CHARS = 200


class AlertDeliveryError(Exception):
    """A channel could not deliver an alert (the message says why)."""


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: a subject line, the sentence, and machine-readable fields."""

    subject: str
    text: str
    fields: Mapping[str, Any] = field(default_factory=dict)


class AlertChannel(Protocol):
    """A destination for alerts."""

    @property
    def name(self) -> str:
        """Stable name (``webhook``, ``email``): part of each delivery's key."""
        ...

    async def send(self, alert: Alert) -> None:
        """Deliver ``alert``; raises ``AlertDeliveryError``."""
        ...


@dataclass(frozen=True, slots=True)
class WebhookChannel:
    """POST the alert as JSON to ``url``; any 2xx is delivered."""

    url: str
    http: httpx.AsyncClient
    timeout: float = DEFAULT_SEND_TIMEOUT_SECONDS

    @property
    def name(self) -> str:
        return "webhook"

    async def send(self, alert: Alert) -> None:
        body = {**alert.fields, "text": alert.text, "subject": alert.subject}
        try:
            response = await self.http.post(self.url, json=body, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise AlertDeliveryError(f"webhook: {exc.__class__.__name__}: {exc}") from exc
        if not 200 <= response.status_code < 300:
            raise AlertDeliveryError(
                f"webhook answered {response.status_code}: {response.text[:ERROR_BODY_CHARS]}"
            )


@dataclass(frozen=True, slots=True)
class EmailChannel:
    """Send the alert by email through an SMTP server."""

    host: str
    port: int
    sender: str
    recipients: Sequence[str]
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout: float = DEFAULT_SEND_TIMEOUT_SECONDS

    @property
    def name(self) -> str:
        return "email"

    def message(self, alert: Alert) -> EmailMessage:
        """The email for ``alert``: the subject, the sentence, then each field on a line."""
        msg = EmailMessage()
        msg["Subject"] = alert.subject
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        lines = [alert.text, ""] + [f"{key}: {value}" for key, value in alert.fields.items()]
        msg.set_content("\n".join(lines) + "\n")
        return msg

    def _send(self, msg: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(msg)

    async def send(self, alert: Alert) -> None:
        try:
            await asyncio.to_thread(self._send, self.message(alert))
        except (OSError, smtplib.SMTPException) as exc:
            raise AlertDeliveryError(f"email: {exc.__class__.__name__}: {exc}") from exc
