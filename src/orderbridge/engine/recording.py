"""API calls recorded per order link while a worker processes it.

One client per connection is shared by every link a worker handles, so the clients get a
``RoutingRecorder``: each call goes to the ``CallBuffer`` of the task that made it (a
context variable, so concurrent links in one event loop never mix their calls). The
worker writes a buffer to the link's timeline after processing, outside the calls.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from orderbridge.adapters.calls import ApiCall

__all__ = ["CallBuffer", "RoutingRecorder", "recording_into"]

# Calls beyond this many per buffer are dropped (a runaway retry loop must not eat memory).
MAX_BUFFERED_CALLS = 500


@dataclass
class CallBuffer:
    """Calls made on behalf of one link (or of a connection, for batch fetches)."""

    calls: list[ApiCall] = field(default_factory=list)
    dropped: int = 0

    def add(self, call: ApiCall) -> None:
        if len(self.calls) >= MAX_BUFFERED_CALLS:
            self.dropped += 1
            return
        self.calls.append(call)

    def take(self) -> list[ApiCall]:
        """Every buffered call, emptying the buffer."""
        calls, self.calls = self.calls, []
        return calls


_CURRENT: ContextVar[CallBuffer | None] = ContextVar("orderbridge_call_buffer", default=None)


@contextlib.contextmanager
def recording_into(buffer: CallBuffer) -> Iterator[CallBuffer]:
    """Route the calls made in this context (and tasks started from it) to ``buffer``."""
    token = _CURRENT.set(buffer)
    try:
        yield buffer
    finally:
        _CURRENT.reset(token)


class RoutingRecorder:
    """A ``CallRecorder`` that hands each call to the current context's buffer.

    Calls made outside any ``recording_into`` go to ``fallback`` (the connection's buffer).
    """

    def __init__(self) -> None:
        self.fallback = CallBuffer()

    def record(self, call: ApiCall) -> None:
        buffer = _CURRENT.get()
        (buffer if buffer is not None else self.fallback).add(call)
