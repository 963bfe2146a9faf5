"""The small web app of a worker-only process (``run --role worker``): ``/metrics`` and ``/healthz``.

A worker process serves no webhooks or API, but Prometheus must still scrape what its
workers count (passes, leases, API calls, throttle waits). With ``metrics_port`` set it
serves this app there: ``/metrics`` behind the same viewer token as the web app's, and
``/healthz`` open (container and systemd health checks).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Response

from orderbridge import __version__
from orderbridge.adapters.db import run_sync
from orderbridge.adapters.db.operators import Role
from orderbridge.engine.metrics import CONTENT_TYPE
from orderbridge.engine.ports import Store
from orderbridge.web import problems
from orderbridge.web.security import Authenticator

__all__ = ["create_metrics_app"]


def create_metrics_app(services: Store) -> FastAPI:
    app = FastAPI(title="OrderBridge worker", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    viewer = Depends(Authenticator(services).require(Role.VIEWER))
    problems.install(app)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/metrics", response_class=Response, dependencies=[viewer])
    async def metrics() -> Response:
        """Prometheus metrics of this process (text format)."""
        body = await run_sync(services.db, services.metrics.render)
        return Response(body, media_type=CONTENT_TYPE)

    return app
