"""OrderBridge: TikTok Shop orders mirrored into Shopify, fulfilment sent back."""

__version__ = "0.1.0"
