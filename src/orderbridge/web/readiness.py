"""What ``/readyz`` checks: can this process do its job right now?

Ready only when every check passes:

- **database writable**: a row is inserted into ``leases`` inside a transaction that is then
  rolled back (a read-only replica, a full disk, a ``chmod 0444`` SQLite file all fail it);
- **migrations current**: the database's Alembic revision is this code's head;
- **secret key**: ``ORDERBRIDGE_SECRET_KEY`` opens every stored token of every active
  connection (a changed key is caught here, not on the first poll);
- **workers heartbeat** (only where workers run in this process): the poller finished a pass
  within ``runner.WORKER_HEARTBEAT_STALE_SECONDS`` and the worker tasks are alive.

The public ``/readyz`` says only ``{"ready": bool}``; the reasons go to the log and to the
private ``GET /api/readiness`` (an operator's token).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from orderbridge.adapters.db import (
    Connection,
    ConnectionStatus,
    connections,
    health,
    migrate,
    transaction,
)
from orderbridge.engine.ports import Store

__all__ = ["WorkerCheck", "check_readiness"]

log = logging.getLogger(__name__)

# Returns None when the workers are alive, else why not (provided by ``orderbridge run``).
WorkerCheck = Callable[[], str | None]


@functools.lru_cache(maxsize=1)
def _head() -> str:
    return migrate.head()


def _read_checks(services: Store, conn: Connection) -> dict[str, str]:
    problems: dict[str, str] = {}
    found = health.revision(conn)
    if found != _head():
        problems["migrations"] = f"database at revision {found}, code expects {_head()}: run `orderbridge db upgrade`"
    try:
        bad = connections.undecryptable(conn, services.cipher, status=ConnectionStatus.ACTIVE)
    except Exception as exc:  # a missing or malformed key
        problems["secret_key"] = str(exc)[:300]
    else:
        if bad:
            problems["secret_key"] = (
                f"ORDERBRIDGE_SECRET_KEY cannot decrypt the tokens of connection(s) {bad}: key changed?"
            )
    return problems


def check_readiness(services: Store, workers: WorkerCheck | None = None) -> dict[str, str]:
    """What keeps this process from being ready (check name -> reason); empty when ready.

    Blocking (database calls): run it with ``run_sync``.
    """
    problems: dict[str, str] = {}
    try:
        health.probe_write(services.db, services.clock.now())
    except Exception as exc:  # any failure of the write means "not ready"
        problems["database_writable"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]
    try:
        with transaction(services.db, write=False) as conn:
            problems.update(_read_checks(services, conn))
    except Exception as exc:
        problems["database"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]
    if workers is not None:
        stale = workers()
        if stale is not None:
            problems["workers"] = stale
    if problems:
        log.warning("not ready: %s", "; ".join(f"{k}: {v}" for k, v in sorted(problems.items())))
    return problems
