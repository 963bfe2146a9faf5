"""Carrying out ``decide()``'s actions through the Shopify and TikTok clients, idempotently.

``core.py`` holds ``ActionExecutor`` (one action in, one ``Outcome`` out, nothing raised for
a vendor refusal); ``edits.py`` the Shopify order edits (custom line swaps) and ``tiktok.py``
the calls to TikTok (tracking, cancellations).
"""

from orderbridge.engine.executor.core import (
    NO_THREEPL_MESSAGE,
    ActionExecutor,
    ExecutionContext,
    Providers,
)

__all__ = ["NO_THREEPL_MESSAGE", "ActionExecutor", "ExecutionContext", "Providers"]
