"""Swagger UI and ReDoc pages that work offline: their JS/CSS come from this process.

FastAPI's default pages load Swagger UI and ReDoc from a CDN, so they are blank without
internet. The assets come from the pinned PyPI package ``fastapi-offline`` (MIT; it ships
Swagger UI, Apache-2.0, and ReDoc, MIT, with their licences), served from its package
directory under ``ASSETS_PATH``: no copy of minified JavaScript in this repository and an
upgrade is a pin change. Only its files are used, not its ``FastAPI`` subclass.
Used by the engine's web app and the sandbox control API (neither is a client or a
sandbox of the other, so they may share this).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

__all__ = ["ASSETS_PATH", "assets_dir", "mount_assets", "redoc_page", "swagger_page"]

ASSETS_PATH: Final = "/_apidocs"


def assets_dir() -> Path:
    """The directory holding swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js, favicon.png."""
    return Path(str(files("fastapi_offline") / "static"))


def mount_assets(app: FastAPI) -> None:
    """Serve the assets at ``ASSETS_PATH`` (public: they are the same for everyone)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=assets_dir()), name="apidocs-assets")


def swagger_page(openapi_url: str, title: str) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=openapi_url, title=title,
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon.png")


def redoc_page(openapi_url: str, title: str) -> HTMLResponse:
    return get_redoc_html(openapi_url=openapi_url, title=title, redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
                          redoc_favicon_url=f"{ASSETS_PATH}/favicon.png", with_google_fonts=False)
