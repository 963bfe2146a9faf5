"""What the sandboxes share among themselves (never imported by the API clients)."""
