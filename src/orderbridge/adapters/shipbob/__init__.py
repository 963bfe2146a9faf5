"""adapters/shipbob."""
