"""The API version the client calls per endpoint, in one place (docs/api-versions.md).

TikTok puts the version in the path. Where its reference documents a newer stable version
of a call the engine makes, and the newer shape is one the client reads, the client uses
it; the others stay on 202309 in their calls.
"""

from __future__ import annotations

from typing import Final

__all__ = ["ORDER_DETAIL_VERSION"]

# Get Order Detail: 202507 adds payment_method_code, payment_card_type, payment_auth_code
# to the 202309 shape (https://partner.tiktokshop.com/docv2/page/get-order-detail-202507).
ORDER_DETAIL_VERSION: Final = "202507"
