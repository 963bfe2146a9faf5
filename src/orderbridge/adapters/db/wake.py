"""Waking workers in other processes through PostgreSQL (``LISTEN`` / ``NOTIFY``).

Whoever makes links due (webhook intake, the poller, an operator's override) calls
``announce_due(conn)`` inside the transaction that moved them: PostgreSQL delivers the
notification when that transaction commits (and drops it if it rolls back), so a worker
woken by it always finds the links due. Identical notifications of one transaction are
delivered once, so announcing after every ``mark_due`` costs one round trip and no more.
On SQLite it does nothing: there is one process, whose workers are woken in-process.

A worker process keeps one dedicated connection listening (``listen_for_due``), outside
SQLAlchemy's pool, and calls its ``on_due`` callback for every notification. On a lost
connection it reconnects after a pause and calls ``on_due`` once (something may have been
announced meanwhile); the worker's long safety poll covers the time without a listener.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Final

import psycopg
from sqlalchemy import Connection, Engine, text

from orderbridge.adapters.db.engine import DEFAULT_PG_CONNECT_TIMEOUT_SECONDS

__all__ = ["DUE_CHANNEL", "announce_due", "listen_for_due", "listens"]

log = logging.getLogger(__name__)

# The channel on which "links were made due" is announced (per database).
DUE_CHANNEL: Final = "orderbridge_due"
# A listener that lost its connection tries again after this many seconds.
RECONNECT_SECONDS: Final = 2.0

_ANNOUNCE: Final = text(f"SELECT pg_notify('{DUE_CHANNEL}', '')")
_LISTEN: Final = f"LISTEN {DUE_CHANNEL}"


def listens(bind: Engine | Connection) -> bool:
    """True when the database can wake other processes (PostgreSQL)."""
    return bind.dialect.name == "postgresql"


def announce_due(conn: Connection) -> None:
    """Tell listening workers that links became due (delivered when ``conn``'s
    transaction commits); nothing on SQLite."""
    if listens(conn):
        conn.execute(_ANNOUNCE)


def _conninfo(engine: Engine) -> str:
    """A libpq URI for psycopg from the engine's SQLAlchemy URL (query options kept)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


async def listen_for_due(
    engine: Engine, on_due: Callable[[], None], *, listening: asyncio.Event | None = None
) -> None:
    """Listen on ``DUE_CHANNEL`` until cancelled, calling ``on_due`` for each notification
    (in the running loop). ``listening`` is set once ``LISTEN`` is in place (tests, start-up).
    """
    conninfo = _conninfo(engine)
    while True:
        try:
            conn = await psycopg.AsyncConnection.connect(
                conninfo, autocommit=True, connect_timeout=DEFAULT_PG_CONNECT_TIMEOUT_SECONDS
            )
            async with conn:
                await conn.execute(_LISTEN)
                on_due()  # announcements made while we were not listening
                if listening is not None:
                    listening.set()
                async for _notification in conn.notifies():
                    on_due()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database went away: the safety poll covers us
            log.warning("listening for due links failed (%s); again in %.0f s", exc, RECONNECT_SECONDS)
        await asyncio.sleep(RECONNECT_SECONDS)
