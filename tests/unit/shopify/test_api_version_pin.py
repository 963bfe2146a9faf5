"""The pinned Shopify Admin API version is one Shopify still supports, with room to move.

Shopify supports each stable version for at least twelve months and then answers calls to
it with another version's schema ("falls forward", https://shopify.dev/docs/api/usage/versioning).
This test is dated against the real date: it starts failing 90 days before the pin's end of
support, which is the signal to move the pin (docs/api-versions.md says how).
"""

from __future__ import annotations

from datetime import date, timedelta

from orderbridge.adapters.shopify.transport import DEFAULT_API_VERSION
from orderbridge.adapters.shopify.versions import (
    PINNED_API_VERSION,
    PINNED_RELEASED,
    PINNED_SUPPORTED_UNTIL,
    SUPPORT_WARNING_DAYS,
)
from orderbridge.domain.carriers import DEFAULT_SHOPIFY_API_VERSION
from orderbridge.settings import Settings


def test_the_pin_is_not_within_90_days_of_its_end_of_support() -> None:
    left = PINNED_SUPPORTED_UNTIL - date.today()
    assert left > timedelta(days=SUPPORT_WARNING_DAYS), (
        f"Shopify Admin API {PINNED_API_VERSION} leaves support on {PINNED_SUPPORTED_UNTIL} "
        f"({left.days} days left): move the pin to a newer stable version (docs/api-versions.md)")


def test_the_pin_is_a_released_stable_version_with_at_least_a_year_of_support() -> None:
    year, month = (int(part) for part in PINNED_API_VERSION.split("-"))
    assert month in (1, 4, 7, 10)
    assert PINNED_RELEASED == date(year, month, 1) <= date.today()
    assert date(year + 1, month, 1) <= PINNED_SUPPORTED_UNTIL


def test_every_default_uses_the_pin() -> None:
    assert DEFAULT_API_VERSION == PINNED_API_VERSION
    assert Settings.model_fields["shopify_api_version"].default == PINNED_API_VERSION
    assert DEFAULT_SHOPIFY_API_VERSION == PINNED_API_VERSION
