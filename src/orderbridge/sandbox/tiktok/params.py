"""Query and body parameter parsing shared by the API handlers (TikTok-style errors)."""

from __future__ import annotations

import base64
from typing import Any

from orderbridge.sandbox.tiktok.errors import bad_request

__all__ = ["in_range", "int_param", "opt_int", "paginate", "str_list"]


def int_param(params: dict[str, str], name: str, default: int | None, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        if default is None:
            raise bad_request(f"{name} is required")
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise bad_request(f"{name} must be an integer between {low} and {high}")
    return int(raw)


def paginate(items: list[Any], page_size: int, page_token: str) -> tuple[list[Any], str]:
    offset = 0
    if page_token:
        try:
            offset = int(base64.urlsafe_b64decode(page_token.encode()).decode().removeprefix("o:"))
        except ValueError:
            raise bad_request("Invalid page_token") from None
    page = items[offset:offset + page_size]
    nxt = offset + page_size
    token = base64.urlsafe_b64encode(f"o:{nxt}".encode()).decode() if nxt < len(items) else ""
    return page, token


def opt_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"{name} must be Unix seconds (integer)")
    return value


def str_list(body: dict[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"{name} must be a list of strings")
    return list(value)


def in_range(value: int, body: dict[str, Any], prefix: str) -> bool:
    ge, lt = opt_int(body, f"{prefix}_ge"), opt_int(body, f"{prefix}_lt")
    return (ge is None or value >= ge) and (lt is None or value < lt)
