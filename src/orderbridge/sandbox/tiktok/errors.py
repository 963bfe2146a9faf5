"""The sandbox's API error: a TikTok code, a message and the HTTP status it travels with.

HTTP statuses (sandbox choice where the doc is silent): business-rule errors travel with
HTTP 200 and a non-zero ``code`` (the client must read ``code``); parameter errors 400;
authentication/signature errors 401; unknown path 404; wrong method 405; rate limit 429;
internal error 500.
"""

from __future__ import annotations

from orderbridge.sandbox.tiktok.constants import ErrorCode

__all__ = ["ApiError", "auth_error", "bad_request", "business_error"]


class ApiError(Exception):
    """Answer the request with a TikTok error envelope."""

    def __init__(self, code: ErrorCode, message: str, http_status: int = 200) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status


def bad_request(message: str, code: ErrorCode = ErrorCode.INVALID_REQUEST) -> ApiError:
    """A malformed or invalid parameter."""
    return ApiError(code, message, 400)


def auth_error(code: ErrorCode, message: str) -> ApiError:
    """Signature, app key, token or shop authorisation failure."""
    return ApiError(code, message, 401)


def business_error(code: ErrorCode, message: str) -> ApiError:
    """A business rule said no."""
    return ApiError(code, message, 200)
