"""``python -m orderbridge``."""

from orderbridge.cli.main import main

main()
