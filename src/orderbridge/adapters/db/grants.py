"""Which connections a user may see: grants of connections to viewers and operators.

Admins see every connection; a viewer or an operator sees the connections granted to them
(``user_connections``) and nothing else. ``Scope`` is what every dashboard query takes:
``None`` for every connection, else the set of connection ids.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from orderbridge.adapters.db.operators import Principal, Role
from orderbridge.adapters.db.tables import connections, user_connections

__all__ = ["Scope", "connection_ids", "connection_named", "grant_connection", "granted_connections", "in_scope", "revoke_connection", "scope_of"]

# None: every connection (an admin); else the ids of the connections a user may see.
Scope = frozenset[int] | None


def grant_connection(conn: Connection, user_id: int, connection_id: int, *, now: datetime) -> bool:
    """Let a user see a connection; False if they already could."""
    exists = conn.execute(select(user_connections.c.user_id).where(
        user_connections.c.user_id == user_id, user_connections.c.connection_id == connection_id)).first()
    if exists is not None:
        return False
    conn.execute(insert(user_connections).values(user_id=user_id, connection_id=connection_id, created_at=now))
    return True


def revoke_connection(conn: Connection, user_id: int, connection_id: int) -> bool:
    """Take a connection away from a user; False if they had no grant for it."""
    done = conn.execute(delete(user_connections).where(
        user_connections.c.user_id == user_id, user_connections.c.connection_id == connection_id))
    return bool(done.rowcount)


def granted_connections(conn: Connection, user_id: int) -> frozenset[int]:
    """The ids of the connections granted to a user (that still exist)."""
    g = user_connections
    rows = conn.execute(select(g.c.connection_id).join(connections, connections.c.id == g.c.connection_id)
                        .where(g.c.user_id == user_id))
    return frozenset(int(r[0]) for r in rows)


def scope_of(conn: Connection, principal: Principal) -> Scope:
    """What ``principal`` may see: None (every connection) for an admin, else its grants."""
    if principal.role is Role.ADMIN:
        return None
    return granted_connections(conn, principal.user_id)


def in_scope(scope: Scope, connection_id: int) -> bool:
    """True when ``scope`` includes the connection."""
    return scope is None or connection_id in scope


def connection_named(conn: Connection, name: str) -> int | None:
    """The id of the connection called ``name``, or None."""
    row = conn.execute(select(connections.c.id).where(connections.c.name == name)).first()
    return None if row is None else int(row[0])


def connection_ids(conn: Connection) -> list[int]:
    """The ids of every connection (nothing decrypted)."""
    return [int(r[0]) for r in conn.execute(select(connections.c.id).order_by(connections.c.id))]
