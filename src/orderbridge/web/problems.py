"""Errors as RFC 9457 problem details (``application/problem+json``), on every route.

``problem(status, detail)`` builds one; ``install(app)`` answers HTTP errors, request
validation errors (422, with the offending fields), missing configuration (503) and
anything unexpected (500, with no
internals: the traceback goes to the log) in that shape. ``detail`` stays a string so
that clients reading ``detail`` keep working.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from orderbridge.errors import ConfigurationError

__all__ = ["PROBLEM_JSON", "install", "problem"]

PROBLEM_JSON: Final = "application/problem+json"
# Validation errors echo at most this much of a rejected value (it may be huge or hostile).
_ECHO_CHARS: Final = 80
log = logging.getLogger(__name__)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem(status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    """A problem-details response."""
    body: dict[str, Any] = {"type": "about:blank", "title": _title(status), "status": status, "detail": detail}
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for err in exc.errors()[:20]:
        found.append({"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg", ""))[:200],
                      "type": str(err.get("type", ""))})
    return found


HtmlErrors = Callable[[Request, int, str, dict[str, str]], Response]


def install(app: FastAPI, *, pages: tuple[str, HtmlErrors] | None = None) -> None:
    """Answer every error of ``app`` as problem details; ``pages`` = (path prefix, renderer):
    HTTP and validation errors under that prefix are pages for people instead."""

    def answer(request: Request, status: int, detail: str, headers: dict[str, str], **extra: Any) -> Response:
        if pages is not None and request.url.path.startswith(pages[0]):
            return pages[1](request, status, detail, headers)
        return problem(status, detail, headers=headers, **extra)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else _title(exc.status_code)
        return answer(request, exc.status_code, detail, dict(exc.headers or {}))

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = _field_errors(exc)
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"][-2:])
        return answer(request, 422, f"{where}: {first['msg']}"[:_ECHO_CHARS * 4], {}, errors=errors)

    async def misconfigured(request: Request, exc: Exception) -> JSONResponse:
        # e.g. no ORDERBRIDGE_SECRET_KEY: the operator's to fix, and the message says how
        return problem(503, f"not configured: {exc}")

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "internal error (logged)")

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(ConfigurationError, misconfigured)
    app.add_exception_handler(Exception, unexpected)
