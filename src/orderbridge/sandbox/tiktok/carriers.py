"""US shipping providers for seller shipping and a small tracking-number plausibility check.

The ids of USPS, UPS, Gofo, UniUni and SpeedX are the observed ones from the doc; the
others are stable invented 19-digit ids (sandbox choice). The format check is the
sandbox's own, deliberately loose (no check digits): enough to reject obvious mismatches
the way TikTok answers 21004015.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CARRIERS", "Carrier", "carrier_by_id", "tracking_fits"]


@dataclass(frozen=True)
class Carrier:
    id: str
    name: str
    pattern: str  # regular expression the whole (upper-cased) tracking number must match


_GENERIC = r"[A-Z0-9]{6,40}"

CARRIERS: tuple[Carrier, ...] = (
    Carrier("7117858858072016686", "USPS", r"\d{20,34}|[A-Z]{2}\d{9}[A-Z]{2}"),
    Carrier("7117859084333745966", "UPS", r"1Z[A-Z0-9]{16}"),
    Carrier("7117858994563475205", "FedEx", r"\d{12}|\d{15}|\d{20}|\d{22}"),
    Carrier("7117859218769364779", "DHL eCommerce", _GENERIC),
    Carrier("7212660474215671598", "Amazon Logistics", r"TBA\d{12}"),
    Carrier("7132708438264596270", "OnTrac", _GENERIC),
    Carrier("7132708514290551557", "LaserShip", _GENERIC),
    Carrier("7248600717110462214", "Better Trucks", _GENERIC),
    Carrier("7208502187360519978", "TForce", _GENERIC),
    Carrier("7248600903949502214", "AxleHire", _GENERIC),
    Carrier("7248601022211982086", "Lone Star Overnight", _GENERIC),
    Carrier("7248601131326867206", "Deliver-it", _GENERIC),
    Carrier("7248601248247375622", "GLS US", _GENERIC),
    Carrier("7248601360419845894", "Spee-Dee Delivery", _GENERIC),
    Carrier("7248601476233172742", "Wizmo", _GENERIC),
    Carrier("7352739623900022544", "Gofo", _GENERIC),
    Carrier("7352738314622863120", "UniUni", _GENERIC),
    Carrier("7325327335803406082", "SpeedX", _GENERIC),
)

_BY_ID = {c.id: c for c in CARRIERS}


def carrier_by_id(provider_id: str) -> Carrier | None:
    """The carrier with that provider id, if it is on the US list."""
    return _BY_ID.get(provider_id)


def tracking_fits(carrier: Carrier, tracking_number: str) -> bool:
    """Whether the tracking number is plausible for the carrier (format only)."""
    cleaned = tracking_number.strip().upper()
    return re.fullmatch(carrier.pattern, cleaned) is not None
