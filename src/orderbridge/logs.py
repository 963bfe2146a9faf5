"""Structured logs: structlog, configured once at start-up by the command line.

``configure_logging(level, fmt)`` installs one handler on the root logger whose
``ProcessorFormatter`` renders both structlog events and the standard library's
``logging`` records (the engine's ``log.info(...)``, uvicorn, SQLAlchemy warnings) the same
way: a console line for people, or one JSON object per line for a log shipper
(``ORDERBRIDGE_LOG_FORMAT=json``). Nothing is configured at import: a library user or a
test that never calls it gets structlog's and logging's defaults.

Events carry ids (``tiktok_order_id``, ``connection_id``, ``request_id``), never payloads:
``redact`` drops every key that could hold a secret or a buyer's personal data, at any
depth, before anything is rendered.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any, Final, Literal, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = ["LOG_LEVELS", "REDACTED_KEYS", "configure_logging", "get_logger", "redact"]

LogFormat = Literal["console", "json"]
LOG_LEVELS: Final = ("debug", "info", "warning", "error")

# Key names (lower case) that are dropped wherever they appear: credentials and buyer PII.
REDACTED_KEYS: Final = frozenset({
    "name", "first_name", "last_name", "full_name", "buyer", "buyer_name", "recipient",
    "recipient_name", "customer", "customer_name", "contact", "phone", "phone_number",
    "email", "buyer_email", "address", "address1", "address2", "full_address", "street",
    "city", "zip", "postal_code", "shipping_address", "billing_address", "recipient_address",
    "authorization", "cookie", "set-cookie", "password", "secret", "token", "sign", "signature",
})
# Parts of key names that always mean a secret or PII (``access_token``, ``app_secret``...).
REDACTED_PARTS: Final = ("token", "secret", "password", "phone", "email", "address",
                         "authorization", "api_key", "cipher_key")
# The handler this module installs is tagged so that a second configure replaces it.
_HANDLER_TAG: Final = "orderbridge_log_handler"


def _sensitive(key: str) -> bool:
    lowered = key.lower()
    return lowered in REDACTED_KEYS or any(part in lowered for part in REDACTED_PARTS)


def _scrub(value: Any, depth: int = 0) -> Any:
    if depth > 8:  # a log value is never this deep; stop rather than recurse forever
        return "…"
    if isinstance(value, Mapping):
        return {k: _scrub(v, depth + 1) for k, v in value.items()
                if not (isinstance(k, str) and _sensitive(k))}
    if isinstance(value, list | tuple):
        return [_scrub(v, depth + 1) for v in value]
    return value


def redact(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: drop secret and PII keys (at any depth) from an event."""
    for key in [k for k in event_dict if _sensitive(k)]:
        del event_dict[key]
    for key, value in event_dict.items():
        if isinstance(value, Mapping | list | tuple):
            event_dict[key] = _scrub(value)
    return event_dict


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        return None


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
    ]


def configure_logging(level: str = "info", fmt: LogFormat = "console",
                      *, stream: TextIO | None = None) -> None:
    """Route structlog and the standard library's logging through one formatter.

    ``level`` is one of ``LOG_LEVELS``; ``fmt`` is ``console`` or ``json``. Calling it
    again replaces the previous configuration (the CLI calls it once per process).
    """
    if level not in LOG_LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}")
    renderer: Processor = (
        structlog.processors.JSONRenderer() if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared = _shared_processors()
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if fmt == "json" else _keep,
            renderer,
        ],
    )
    handler: logging.Handler = (
        logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    )
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_TAG, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_TAG, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # httpx logs every request URL at info (TikTok's carry signatures): ours say more.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def _keep(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    return event_dict


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger over the standard library's logger ``name``.

    Before ``configure_logging`` its events are plain ``logging`` records (so a process
    that never configures logs stays as quiet as ``logging``'s defaults); after it, they
    are rendered by the configured formatter with their keys.
    """
    logger: structlog.stdlib.BoundLogger = structlog.wrap_logger(
        logging.getLogger(name), wrapper_class=structlog.stdlib.BoundLogger)
    return logger
