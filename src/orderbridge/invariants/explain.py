"""Which engine exceptions explain what the checker saw.

An exception explains an observation only if it is open and its data names the same thing:
a TOTALS_MISMATCH for the TikTok total and the difference the checker measured itself, a
tracking exception for that fulfilment (and that number where the data records one). An
exception of the right code about something else, or one already closed, explains nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Final

from orderbridge.invariants.observe import EngineException, money

__all__ = ["explains_fulfilment", "explains_orphan", "explains_total"]

# Codes whose data names the fulfilment (``fulfillment_id``) they are about.
FULFILMENT_CODES: Final = frozenset({
    "NO_TRACKING", "MULTI_TRACKING_SPLIT", "UNSUPPORTED_CARRIER", "INVALID_TRACKING",
    "NON_MCF_TRACKING", "DUPLICATE_TRACKING", "TRACKING_LOCKED", "TRACKING_CHANGED_AFTER_PUSH",
})
# TikTok refused the push (or the correction) of this fulfilment: the data is keyed by action.
REJECTED_KEYS: Final = ("push:", "update-tracking:")


def _number(value: Any) -> str:
    return "".join(str(value or "").split()).upper()


def _ids(fulfilment: dict[str, Any]) -> set[str]:
    return {str(fulfilment.get("admin_graphql_api_id")), str(fulfilment.get("id"))}


def explains_fulfilment(
    exceptions: Iterable[EngineException], fulfilment: dict[str, Any], number: str | None
) -> bool:
    """An open exception says why this fulfilment's tracking (``number``) is not on TikTok."""
    ids = _ids(fulfilment)
    for ex in exceptions:
        if not ex.open:
            continue
        if ex.code == "TIKTOK_REJECTED" and any(p + i in ex.data for p in REJECTED_KEYS for i in ids):
            return True
        if ex.code not in FULFILMENT_CODES or str(ex.data.get("fulfillment_id")) not in ids:
            continue
        recorded = ex.data.get("tracking_number") or ex.data.get("now")
        if recorded is None or number is None or _number(recorded) == _number(number):
            return True
    return False


def explains_orphan(
    exceptions: Iterable[EngineException], number: str, cancelled: Iterable[dict[str, Any]]
) -> bool:
    """An open exception says why TikTok has ``number`` that no live fulfilment carries:
    the number was locked after a change (TRACKING_LOCKED, ``pushed``), or the fulfilment
    that carried it was cancelled after the push (FULFILMENT_CANCELLED_AFTER_PUSH)."""
    carried = {i for f in cancelled
               if _number(number) in {_number(n) for n in f.get("tracking_numbers") or []}
               for i in _ids(f)}
    for ex in exceptions:
        if not ex.open:
            continue
        if ex.code == "TRACKING_LOCKED" and _number(ex.data.get("pushed")) == _number(number):
            return True
        if ex.code == "FULFILMENT_CANCELLED_AFTER_PUSH" and str(ex.data.get("fulfillment_id")) in carried:
            return True
    return False


def explains_total(
    exceptions: Iterable[EngineException], tiktok_total: Decimal | None, shopify_total: Decimal | None
) -> bool:
    """An open TOTALS_MISMATCH recorded for this TikTok total and the difference observed.

    The sign is not compared: the domain records a planned-minus-TikTok difference for a
    plan, and the tax lost by a swap as a positive amount.
    """
    if tiktok_total is None or shopify_total is None:
        return False
    observed = abs(shopify_total - tiktok_total)
    for ex in exceptions:
        if not ex.open or ex.code != "TOTALS_MISMATCH":
            continue
        difference = money(ex.data.get("difference"))
        if money(ex.data.get("tiktok_total")) == tiktok_total and difference is not None \
                and abs(difference) == observed:
            return True
    return False
