"""``python -m orderbridge``."""

from orderbridge.cli import main

main()
