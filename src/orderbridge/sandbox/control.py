"""The sandbox control API: one place to play the world around the engine.

Mounted routes (all JSON; OpenAPI at ``/openapi.json``, browsable at ``/docs``):

- ``/clock``: read, set the mode (real / fixed / scaled), advance;
- ``/faults``: endpoint and webhook-stream fault rules, seed;
- ``/webhooks``: every outgoing delivery of every sandbox, redeliver one;
- ``/info``: base URLs and test credentials (what ``--info-file`` writes);
- ``/tiktok/...``, ``/shopify/...``, ``/amazon_mcf/...``, ``/shipbob/...``: each sandbox's
  own actions (buyers, merchant, 3PL warehouses) and state reads, contributed by the
  sandbox packages.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from orderbridge import apidocs
from orderbridge.clock import ScaledClock
from orderbridge.sandbox.common.faults import EndpointRule, FaultPlan, StreamRule
from orderbridge.sandbox.common.scheduler import Scheduler
from orderbridge.sandbox.common.webhooks import Delivery, WebhookDispatcher

__all__ = ["SandboxPart", "build_control_app"]


# Control API bodies refuse fields they do not know (422): a misspelt field silently
# ignored once gave a 1-unit order instead of the intended quantity.
STRICT_INPUT = ConfigDict(extra="forbid")

SandboxName = Literal["tiktok", "shopify", "amazon_mcf", "shipbob"]


class SandboxPart(Protocol):
    """What each sandbox contributes to the control API."""

    name: str
    control: APIRouter
    dispatcher: WebhookDispatcher


class ClockState(BaseModel):
    now: datetime
    rate: float = Field(description="virtual seconds per real second; 0 = frozen")
    mode: Literal["real", "fixed", "scaled"]
    pending_timers: int


class ClockUpdate(BaseModel):
    model_config = STRICT_INPUT
    mode: Literal["real", "fixed", "scaled"] | None = Field(
        default=None, description="real = rate 1; fixed = rate 0; scaled = the given rate"
    )
    rate: float | None = Field(default=None, ge=0, description="for mode=scaled, e.g. 60 = an hour a minute")
    now: datetime | None = Field(default=None, description="jump to this instant (not backwards)")


class Advance(BaseModel):
    model_config = STRICT_INPUT
    seconds: float = Field(ge=0, description="virtual seconds to jump forward")


class EndpointRuleIn(BaseModel):
    model_config = STRICT_INPUT
    sandbox: SandboxName
    match: str = Field(default="*", description="shell pattern on the endpoint key")
    latency_ms: tuple[float, float] = (0.0, 0.0)
    error_rate: float = Field(default=0.0, ge=0, le=1)
    throttle_rate: float = Field(default=0.0, ge=0, le=1)
    timeout_rate: float = Field(default=0.0, ge=0, le=1)
    drop_response_rate: float = Field(default=0.0, ge=0, le=1)
    limit: int | None = Field(default=None, ge=1, description="apply to the next N matches only")


class StreamRuleIn(BaseModel):
    model_config = STRICT_INPUT
    sandbox: SandboxName
    match: str = Field(default="*", description="shell pattern on the webhook topic")
    drop_rate: float = Field(default=0.0, ge=0, le=1)
    duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    delay_seconds: tuple[float, float] = (0.0, 0.0)
    fail_rate: float = Field(default=0.0, ge=0, le=1)
    limit: int | None = Field(default=None, ge=1)


class Seed(BaseModel):
    model_config = STRICT_INPUT
    seed: int


def _clock_mode(rate: float) -> Literal["real", "fixed", "scaled"]:
    if rate == 0:
        return "fixed"
    return "real" if rate == 1 else "scaled"


def build_control_app(
    *,
    clock: ScaledClock,
    scheduler: Scheduler,
    faults: FaultPlan,
    parts: list[SandboxPart],
    info: Any,
) -> FastAPI:
    """The control FastAPI app. ``info`` is a zero-argument callable returning the info dict."""
    app = FastAPI(
        title="OrderBridge sandbox control API",
        version="1",
        description="Plays buyers, TikTok, the merchant, 3PL warehouses and carriers; controls the clock and faults.",
        docs_url=None, redoc_url=None,  # served below from local assets (work offline)
    )
    apidocs.mount_assets(app)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return apidocs.swagger_page("/openapi.json", "Sandbox control API")

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return apidocs.redoc_page("/openapi.json", "Sandbox control API")

    def clock_state() -> ClockState:
        return ClockState(
            now=clock.now(), rate=clock.rate, mode=_clock_mode(clock.rate),
            pending_timers=len(scheduler.pending()),
        )

    @app.get("/health", tags=["control"])
    def health() -> dict[str, str]:
        """Liveness."""
        return {"status": "ok"}

    @app.get("/info", tags=["control"])
    def get_info() -> Any:
        """Base URLs and test credentials of every sandbox."""
        return info()

    @app.get("/clock", tags=["clock"])
    def get_clock() -> ClockState:
        """The shared clock."""
        return clock_state()

    @app.post("/clock", tags=["clock"])
    def set_clock(update: ClockUpdate) -> ClockState:
        """Change the mode or rate, or jump to an instant."""
        if update.now is not None:
            try:
                clock.set(update.now)
            except ValueError as exc:
                raise HTTPException(status_code=422, detail=str(exc)) from exc
        if update.mode == "real":
            clock.set_rate(1.0)
        elif update.mode == "fixed":
            clock.set_rate(0.0)
        elif update.mode == "scaled" or update.rate is not None:
            clock.set_rate(update.rate if update.rate is not None else clock.rate)
        return clock_state()

    @app.post("/clock/advance", tags=["clock"])
    async def advance_clock(step: Advance) -> ClockState:
        """Jump forward; timers that became due run before this answers."""
        clock.advance(timedelta(seconds=step.seconds))
        await scheduler.run_due()
        return clock_state()

    @app.get("/faults", tags=["faults"])
    def get_faults() -> dict[str, Any]:
        """Every fault rule, with how often each has matched."""
        return faults.to_json()

    @app.post("/faults/endpoints", tags=["faults"])
    def add_endpoint_fault(rule: EndpointRuleIn) -> dict[str, Any]:
        """Add a rule for API requests of one sandbox."""
        data = rule.model_dump()
        try:
            return faults.add_endpoint_rule(EndpointRule(**data)).to_json()
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc

    @app.post("/faults/streams", tags=["faults"])
    def add_stream_fault(rule: StreamRuleIn) -> dict[str, Any]:
        """Add a rule for outgoing webhooks of one sandbox."""
        try:
            return faults.add_stream_rule(StreamRule(**rule.model_dump())).to_json()
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc

    @app.delete("/faults/{rule_id}", tags=["faults"])
    def delete_fault(rule_id: int) -> dict[str, bool]:
        """Remove one rule."""
        if not faults.remove(rule_id):
            raise HTTPException(status_code=404, detail="no such rule")
        return {"removed": True}

    @app.delete("/faults", tags=["faults"])
    def clear_faults(sandbox: SandboxName | None = None) -> dict[str, bool]:
        """Remove every rule (of one sandbox, or all)."""
        faults.clear(sandbox)
        return {"cleared": True}

    @app.post("/faults/seed", tags=["faults"])
    def reseed(seed: Seed) -> dict[str, int]:
        """Restart every rule's random sequence from a new seed."""
        faults.reseed(seed.seed)
        return {"seed": seed.seed}

    dispatchers = {part.name: part.dispatcher for part in parts}

    @app.get("/webhooks", tags=["webhooks"])
    def list_deliveries(
        sandbox: SandboxName | None = None,
        topic: str | None = None,
        status: str | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """Outgoing webhook deliveries, newest last."""
        rows: list[Delivery] = []
        for name, dispatcher in dispatchers.items():
            if sandbox and name != sandbox:
                continue
            rows.extend(
                d for d in dispatcher.deliveries
                if (topic is None or d.topic == topic) and (status is None or d.status == status)
            )
        rows.sort(key=lambda d: (d.created_at, d.id))
        return [d.to_json() for d in rows[-limit:]]

    @app.get("/webhooks/{delivery_id}", tags=["webhooks"])
    def get_delivery(delivery_id: int) -> dict[str, Any]:
        """One delivery with its body."""
        for dispatcher in dispatchers.values():
            found = dispatcher.find(delivery_id)
            if found is not None:
                return found.to_json(with_body=True)
        raise HTTPException(status_code=404, detail="no such delivery")

    @app.post("/webhooks/{delivery_id}/redeliver", tags=["webhooks"])
    def redeliver(delivery_id: int) -> dict[str, Any]:
        """Send a past delivery again (a new delivery with the same body and headers)."""
        for dispatcher in dispatchers.values():
            again = dispatcher.redeliver(delivery_id)
            if again is not None:
                return again.to_json()
        raise HTTPException(status_code=404, detail="no such delivery")

    for part in parts:
        app.include_router(part.control, prefix=f"/{part.name}")

    @app.exception_handler(Exception)
    async def unexpected(_request: Any, exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=500, content={"detail": f"{type(exc).__name__}: {exc}"})

    return app
