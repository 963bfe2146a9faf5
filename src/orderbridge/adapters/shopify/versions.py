"""The Admin API version the client pins, and until when Shopify supports it (docs/api-versions.md).

Shopify releases a stable version each quarter and supports each for at least twelve months
(https://shopify.dev/docs/api/usage/versioning). After that it "falls forward": a call to the
old version is answered by the oldest accessible one, whose schema may differ, without an
error. So the pin has to move before its date; tests/unit/shopify/test_api_version_pin.py fails
once the pin is within 90 days of ``PINNED_SUPPORTED_UNTIL``.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from orderbridge.logs import get_logger

__all__ = [
    "API_VERSION_HEADER",
    "FELL_FORWARD_SEEN",
    "PINNED_API_VERSION",
    "PINNED_RELEASED",
    "PINNED_SUPPORTED_UNTIL",
    "SUPPORT_WARNING_DAYS",
    "warn_if_fell_forward",
]

log = get_logger(__name__)

# 2026-10: "the latest stable API version. It's available for production use until at least
# October 1, 2027 at 15:00 UTC" (https://shopify.dev/changelog/release-notes/2026-10).
PINNED_API_VERSION: Final = "2026-10"
PINNED_RELEASED: Final = date(2026, 10, 1)
PINNED_SUPPORTED_UNTIL: Final = date(2027, 10, 1)
# How long before the end of support the pin must have moved (issue 13).
SUPPORT_WARNING_DAYS: Final = 90

# Shopify names the version that answered; a retired one "falls forward" to another without
# an error (https://shopify.dev/docs/api/usage/versioning), so a difference is logged once per
# process, store and pair of versions.
API_VERSION_HEADER: Final = "X-Shopify-API-Version"
# (store, requested, answered) already warned about in this process.
FELL_FORWARD_SEEN: set[tuple[str, str, str]] = set()


def warn_if_fell_forward(shop_domain: str, requested: str, answered: str | None) -> None:
    """Log a warning (once per store and pair of versions) when ``answered`` is not
    ``requested``: Shopify no longer serves the configured version."""
    if not answered or answered == requested:
        return
    key = (shop_domain, requested, answered)
    if key in FELL_FORWARD_SEEN:
        return
    FELL_FORWARD_SEEN.add(key)
    log.warning("shopify_api_version_fell_forward", api="shopify", shop=shop_domain,
                requested=requested, answered=answered,
                hint="Shopify no longer serves the configured shopify_api_version and answered with "
                     "another version's schema: set shopify_api_version to a supported version "
                     "(docs/api-versions.md)")
