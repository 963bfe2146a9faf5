"""Which Admin API versions the sandbox answers, as Shopify does (https://shopify.dev/docs/api/usage/versioning).

Shopify releases a stable version each quarter (``YYYY-01/04/07/10``) and keeps it accessible
for at least twelve months: the release notes give "accessible until" the 16th of the same
month a year later at 15:00 UTC (2026-10: "October 16, 2027 15:00 UTC",
https://shopify.dev/changelog/release-notes/2026-10; 2025-07 stopped on July 16, 2026 at
15:00 UTC). A request to a version no longer accessible is not refused: Shopify "falls
forward" and answers it with the oldest accessible stable version, and says which version
answered in the ``X-Shopify-API-Version`` response header.

The sandbox emulates one version's schema (``SERVED``). A retired version falls forward to it
(Shopify would use the oldest accessible one; for the types the engine uses those differ only
by fields added since, listed in docs/api-versions.md). Any other version (a supported one the
sandbox does not emulate, a release candidate, ``unstable``, or no version at all) is answered
404, so a client pinned elsewhere learns it at once rather than meeting another schema.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

__all__ = ["SERVED", "accessible_until", "answering_version"]

SERVED: Final = "2026-10"
_STABLE = re.compile(r"(\d{4})-(01|04|07|10)")


def accessible_until(version: str) -> datetime | None:
    """When a stable version stops being served (None for anything not a stable version name)."""
    match = _STABLE.fullmatch(version)
    if match is None:
        return None
    return datetime(int(match.group(1)) + 1, int(match.group(2)), 16, 15, tzinfo=UTC)


def answering_version(requested: str, now: datetime) -> str | None:
    """The version that answers a request for ``requested`` at ``now``, or None (404)."""
    if requested == SERVED:
        return SERVED
    until = accessible_until(requested)
    if until is not None and requested < SERVED and until <= now:
        return SERVED
    return None
