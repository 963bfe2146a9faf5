"""What the 3PL code needs from the composition root (``bootstrap.Services`` has it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from orderbridge.adapters.amazon_mcf import AmazonMcfClient
    from orderbridge.adapters.shipbob import ShipBobClient

__all__ = ["ThreePLAccounts"]


@runtime_checkable
class ThreePLAccounts(Protocol):
    """The process's 3PL clients (one per account: one quota), ``None`` when not configured."""

    @property
    def amazon_mcf(self) -> AmazonMcfClient | None: ...

    @property
    def shipbob(self) -> ShipBobClient | None: ...
