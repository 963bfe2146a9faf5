"""The API pages work offline: Swagger UI and ReDoc load their JS/CSS from the process
itself (``/_apidocs``), never from a CDN, on the engine (behind a token) and on the sandbox
control API."""

from __future__ import annotations

import re

import httpx

from orderbridge.adapters.db.operators import Role
from orderbridge.bootstrap import Services
from orderbridge.sandbox.runner import SandboxWorld, running_sandboxes
from orderbridge.web.app import create_app
from tests.integration.web.conftest import bearer, token_for

ASSET = re.compile(r"""(?:src|href)=["']([^"']+\.(?:js|css|png))["']""")


async def _check_page(http: httpx.AsyncClient, path: str, **headers: str) -> None:
    page = await http.get(path, headers=headers)
    assert page.status_code == 200, page.text
    assets = ASSET.findall(page.text)
    assert assets, page.text
    for url in assets:
        assert url.startswith("/_apidocs/"), f"{path} loads {url} from elsewhere"
        served = await http.get(url)  # public, like any static file
        assert served.status_code == 200, url
        assert len(served.content) > 1000 or url.endswith(".png")
    assert "cdn" not in page.text.lower()
    assert "fonts.googleapis" not in page.text


async def test_engine_docs_pages_use_local_assets(services: Services) -> None:
    transport = httpx.ASGITransport(app=create_app(services))
    token = bearer(token_for(services, Role.VIEWER, name="vera", days=1))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        assert (await http.get("/docs")).status_code == 401  # the page itself stays private
        for path in ("/docs", "/redoc"):
            await _check_page(http, path, **token)


async def test_sandbox_docs_pages_use_local_assets() -> None:
    with running_sandboxes(SandboxWorld(seed=1)) as (running, _thread):
        async with httpx.AsyncClient(base_url=running.info()["control_url"], timeout=10) as http:
            for path in ("/docs", "/redoc"):
                await _check_page(http, path)
