"""The engine's web app on both databases (the fixtures of tests/integration/web)."""

from tests.integration.web.conftest import client, services  # noqa: F401  (fixtures)
