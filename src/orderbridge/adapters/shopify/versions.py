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

__all__ = ["PINNED_API_VERSION", "PINNED_RELEASED", "PINNED_SUPPORTED_UNTIL", "SUPPORT_WARNING_DAYS"]

# 2026-10: "the latest stable API version. It's available for production use until at least
# October 1, 2027 at 15:00 UTC" (https://shopify.dev/changelog/release-notes/2026-10).
PINNED_API_VERSION: Final = "2026-10"
PINNED_RELEASED: Final = date(2026, 10, 1)
PINNED_SUPPORTED_UNTIL: Final = date(2027, 10, 1)
# How long before the end of support the pin must have moved (issue 13).
SUPPORT_WARNING_DAYS: Final = 90
