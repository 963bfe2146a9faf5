"""Adapters: the outside world (TikTok, Shopify, 3PLs, the database) behind typed ports."""
