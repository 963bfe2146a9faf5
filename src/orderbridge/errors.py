"""The error hierarchy of OrderBridge. Retry policy switches on these types.

    OrderBridgeError
    ├── ConfigurationError            bad or missing settings; fix the config, do not retry
    └── RemoteError                   something an external API (TikTok, Shopify, a 3PL) said
        ├── RetryableError            try again later, with back-off
        │   ├── RateLimited           429 / THROTTLED / 36009002; may carry retry_after
        │   ├── UpstreamUnavailable   5xx, 503 protection, internal-error codes
        │   └── RemoteTimeout         no answer in time: the outcome is UNKNOWN
        └── PermanentError            the same request will fail the same way
            ├── AuthError             token expired or revoked, bad signature, missing scope
            ├── Rejected              a business rule said no (user errors, TikTok codes)
            └── NotFound              the thing does not exist (or is not ours)

Every RemoteError carries the API name, the operation, the vendor's code and message and
the remote request id when there was one, so the order timeline can show them.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthError",
    "ConfigurationError",
    "NotFound",
    "OrderBridgeError",
    "PermanentError",
    "RateLimited",
    "Rejected",
    "RemoteError",
    "RemoteTimeout",
    "RetryableError",
    "UpstreamUnavailable",
]


class OrderBridgeError(Exception):
    """Something went wrong in OrderBridge."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or type(self).__name__).strip())


class ConfigurationError(OrderBridgeError):
    """The configuration is invalid."""


class RemoteError(OrderBridgeError):
    """An external API answered with an error."""

    def __init__(
        self,
        message: str | None = None,
        *,
        api: str = "",
        operation: str = "",
        code: str | int | None = None,
        request_id: str | None = None,
        status: int | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.api = api
        self.operation = operation
        self.code = code
        self.request_id = request_id
        self.status = status
        self.details = details

    def describe(self) -> dict[str, Any]:
        """A JSON-friendly summary for timelines and exceptions."""
        return {
            "error": type(self).__name__,
            "message": str(self),
            "api": self.api,
            "operation": self.operation,
            "code": self.code,
            "request_id": self.request_id,
            "status": self.status,
        }


class RetryableError(RemoteError):
    """A temporary failure: the same request may succeed later."""


class RateLimited(RetryableError):
    """The API asked us to slow down."""

    def __init__(self, message: str | None = None, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class UpstreamUnavailable(RetryableError):
    """The API failed on its side (5xx or an internal-error code)."""


class RemoteTimeout(RetryableError):
    """No answer in time: the request may or may not have taken effect."""


class PermanentError(RemoteError):
    """The request will fail the same way if repeated unchanged."""


class AuthError(PermanentError):
    """Authentication or authorisation failed (expired token, bad signature, missing scope)."""


class Rejected(PermanentError):
    """The API refused the request on business grounds."""


class NotFound(PermanentError):
    """The remote object does not exist or is not visible to us."""
