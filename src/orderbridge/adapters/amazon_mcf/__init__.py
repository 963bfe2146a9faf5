"""adapters/amazon_mcf."""
