"""Connections and settings (admins only): each connection's policy, one field per key,
validated as a whole before anything is stored, each message next to its field.

The values are the ones ``orderbridge policy show`` prints (stored keys over the defaults);
a field is written as JSON (``true``, ``3600``, ``["a", "b"]``) or a bare word. Only the
fields that changed are stored (``engine/policy_store.set_policy``: on the connection's
timeline, with who changed it in the audit log).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from orderbridge.adapters.db import connections, run_sync
from orderbridge.adapters.db.operators import Role
from orderbridge.engine.policy_config import PolicyConfig
from orderbridge.engine.policy_store import set_policy, show_policy
from orderbridge.engine.ports import Process
from orderbridge.errors import ConfigurationError
from orderbridge.web.dashboard.auth import HOME, SessionAuth
from orderbridge.web.dashboard.common import page, reader, viewer

__all__ = ["policy_fields", "router"]

_MAX_FIELD = 4000


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text  # a bare word: a string


def policy_fields(effective: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(key, shown value, help) for each policy key, in the model's order."""
    return [(key, _shown(effective.get(key)), info.description or "")
            for key, info in PolicyConfig.model_fields.items()]


def _errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors():
        key = str(err["loc"][0]) if err["loc"] else "?"
        out.setdefault(key, str(err["msg"]))
    return out


def router(services: Process, auth: SessionAuth) -> APIRouter:
    """The settings routes (included under ``/dashboard``)."""
    r = APIRouter()
    read = reader(services.db)

    async def shop(connection_id: int) -> Any:
        row = await read(lambda conn: connections.get_connection(conn, services.cipher, connection_id))
        if row is None:
            raise HTTPException(404, f"no connection {connection_id}")
        return row

    def render(request: Request, who: Any, rows: list[Any], *, edited: int | None = None,
               values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
               notice: str | None = None, status: int = 200) -> Response:
        forms = []
        for row in rows:
            fields = policy_fields(show_policy(row))
            if row.id == edited and values is not None:
                fields = [(k, values.get(k, v), h) for k, v, h in fields]
            forms.append((row, fields, errors if row.id == edited else {}))
        return page(request, "settings.html", session=who.session, forms=forms, notice=notice, status=status)

    @r.get("/settings", response_class=HTMLResponse)
    async def settings_page(request: Request, notice: str | None = None) -> Response:
        who = await viewer(auth, request, Role.ADMIN)
        rows = await read(lambda conn: connections.list_connections(conn, services.cipher))
        return render(request, who, rows, notice=(notice or "")[:300] or None)

    @r.post("/settings/{connection_id}/policy", response_class=HTMLResponse)
    async def save_policy(request: Request, connection_id: int) -> Response:
        who = await viewer(auth, request, Role.ADMIN)
        form = await request.form()
        auth.check_csrf(who.session, str(form.get("csrf") or ""))
        if not 1 <= connection_id <= 2**63 - 1:
            raise HTTPException(404, "no such connection")
        row = await shop(connection_id)
        current = {k: v for k, v, _ in policy_fields(show_policy(row))}
        values = {k: str(form.get(k, current[k]))[:_MAX_FIELD].strip() for k in current}
        changed = {k: v for k, v in values.items() if v != current[k]}
        merged = {**(row.policy or {}), **{k: _parse(v) for k, v in changed.items()}}
        try:
            PolicyConfig.model_validate(merged)
        except ValidationError as exc:
            rows = await read(lambda conn: connections.list_connections(conn, services.cipher))
            return render(request, who, rows, edited=connection_id, values=values, errors=_errors(exc),
                          notice="Not saved: fix the fields marked below.", status=422)
        try:
            for key, value in changed.items():
                await run_sync(services.db, set_policy, services, row, key, value)
        except ConfigurationError as err:  # the whole was valid; a race with another change
            rows = await read(lambda conn: connections.list_connections(conn, services.cipher))
            return render(request, who, rows, edited=connection_id, values=values,
                          errors={"?": str(err)}, notice="Not saved.", status=409)
        saved = ", ".join(sorted(changed)) or "nothing changed"
        query = urlencode({"notice": f"{row.name}: saved {saved}"[:250]})
        return RedirectResponse(f"{HOME}/settings?{query}#connection-{row.id}", status_code=303)

    return r
