"""How the ``orderbridge`` commands reach the database, and how its failures are told.

Read commands (``status``, ``order``, ``connections``, ``policy show``, ``user list``,
``token list``) and ``run`` never create or migrate a database: they refuse one that does
not exist or is not at this code's migration, naming the command that fixes it (``orderbridge
db upgrade``). A database that cannot be reached (server down, database missing) is one
line naming it, never a driver traceback. All of these are configuration errors: exit 2.
"""

from __future__ import annotations

import errno
import logging
import socket

from orderbridge.adapters.db import DriverError, health
from orderbridge.errors import ConfigurationError

__all__ = ["UPGRADE_HINT", "check_port_free", "database_error", "display_url", "require_current_database"]

UPGRADE_HINT = "run `orderbridge db upgrade`"


def display_url(url: str) -> str:
    """``url`` without its password, for messages."""
    return health.display_url(url)


def database_error(url: str, exc: DriverError) -> ConfigurationError:
    """A driver error on connecting, as one line naming the database."""
    detail = str(exc.orig or exc).strip().splitlines()
    first = detail[0] if detail else exc.__class__.__name__
    return ConfigurationError(f"cannot use the database {display_url(url)}: {first}")


def require_current_database(url: str) -> None:
    """Refuse (``ConfigurationError``) a database that is missing, unreachable or not current.

    Checked before anything connects: connecting to SQLite creates the file.
    """
    from orderbridge.adapters.db import migrate

    path = health.sqlite_file(url)
    if path is not None and not path.exists():
        raise ConfigurationError(f"no database at {path.resolve()}; {UPGRADE_HINT}")
    try:
        health.ping(url)
    except DriverError as exc:
        raise database_error(url, exc) from None
    # Reading the revision is not news: keep Alembic's "Context impl" lines out of the output.
    alembic_log = logging.getLogger("alembic")
    level = alembic_log.level
    alembic_log.setLevel(max(level, logging.WARNING))
    try:
        migrate.check(url)
    finally:
        alembic_log.setLevel(level)


def check_port_free(host: str, port: int, setting: str = "ORDERBRIDGE_PORT") -> None:
    """Refuse a port another process listens on (before the server tries, and fails noisily).

    ``setting``: the variable that chose the port, named in the message.
    """
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # Same option as the web server's socket: a port in TIME_WAIT is not "in use".
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigurationError(
                    f"port {port} on {host} is already in use (another orderbridge?); "
                    f"stop it or choose another with {setting}") from None
            raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
