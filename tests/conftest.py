"""Shared fixtures: databases on both dialects.

- ``db_url``: parametrized ``sqlite`` / ``postgresql``; a fresh, EMPTY database per test
  (a file in ``tmp_path``; a new PostgreSQL database ``ob_test_*`` dropped afterwards).
- ``migrated_db_url``: the same, with the schema at head.
- ``migrated_engine``: an engine (``make_engine``) on ``migrated_db_url``, disposed after.

Migrated databases are copies of a template migrated once: a SQLite file per session and
worker; on PostgreSQL a template database named after a hash of the migrations, built
once under an advisory lock (shared by xdist workers and by concurrent runs) and kept
between runs. ``CREATE DATABASE`` costs 0.1 s on an idle server and well over 1 s on a busy
one, so each worker keeps its migrated PostgreSQL databases in a pool and hands every test
one that is clean: after the test, the other sessions on it are terminated and, if its
schema (a catalog fingerprint) and Alembic revision are still the template's, its rows are
deleted and its sequences reset; otherwise it is dropped. ``ORDERBRIDGE_TEST_PG_REUSE=0``
makes every test create and drop its own database instead. Empty databases (``db_url``
alone) are always created for the test and dropped after it.

PostgreSQL is ``ORDERBRIDGE_TEST_PG_URL`` (default below, used as the maintenance
database). If it is unreachable the tests FAIL; they never skip.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url

from orderbridge.adapters.db import migrate
from orderbridge.adapters.db.engine import make_engine
from orderbridge.adapters.db.tables import metadata

PG_URL_ENV = "ORDERBRIDGE_TEST_PG_URL"
PG_REUSE_ENV = "ORDERBRIDGE_TEST_PG_REUSE"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEST_DB_PREFIX = "ob_test_"
TEMPLATE_PREFIX = "ob_tpl_"
# Test databases older than this are leftovers of killed runs and are dropped.
STALE_TEST_DB_SECONDS = 6 * 3600
# Advisory lock key serialising template builds and cleanup across processes.
TEMPLATE_LOCK_KEY = 0x0B7E_5701
CONNECT_TIMEOUT_SECONDS = 5

_MIGRATED = pytest.StashKey[bool]()


def _libpq(url: URL) -> str:
    """A libpq URI for psycopg from a SQLAlchemy URL."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _ddl(conn: psycopg.Connection[Any], statement: str, *names: str) -> None:
    """Run ``statement`` with ``{}`` replaced by the quoted identifiers ``names``."""
    conn.execute(sql.SQL(statement).format(*(sql.Identifier(n) for n in names)))


def _migrations_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(migrate.MIGRATIONS_DIR.rglob("*.py")):
        digest.update(path.relative_to(migrate.MIGRATIONS_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def pg_admin_url() -> URL:
    """The PostgreSQL maintenance URL; fails (never skips) when the server is unreachable."""
    url = make_url(os.environ.get(PG_URL_ENV, DEFAULT_PG_URL))
    try:
        with psycopg.connect(
            _libpq(url), autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
        ) as conn:
            _drop_stale_test_databases(conn)
    except psycopg.Error as exc:
        pytest.fail(
            f"PostgreSQL is unreachable at {url.render_as_string(hide_password=True)} "
            f"({exc.__class__.__name__}: {exc}). Start it (pg_ctlcluster --skip-systemctl-redirect "
            f"<version> main start) or point {PG_URL_ENV} at a server.",
            pytrace=False,
        )
    return url


def _drop_stale_test_databases(conn: psycopg.Connection[Any]) -> None:
    names = conn.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE %s", (TEST_DB_PREFIX + "%",)
    ).fetchall()
    cutoff = time.time() - STALE_TEST_DB_SECONDS
    for (name,) in names:
        stamp = str(name)[len(TEST_DB_PREFIX) :].split("_")[0]
        if stamp.isdigit() and int(stamp) < cutoff:
            _ddl(conn, "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: URL) -> str:
    """Name of a PostgreSQL template database at the migrations' head (built once)."""
    fingerprint = _migrations_fingerprint()
    name = TEMPLATE_PREFIX + fingerprint
    with psycopg.connect(_libpq(pg_admin_url), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (TEMPLATE_LOCK_KEY,))
        try:
            ready = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s AND datistemplate", (name,)
            ).fetchone()
            if ready is None:
                # Build under another name, publish complete: a half-built template is
                # never mistaken for a ready one.
                building = f"ob_tplbuild_{fingerprint}"
                _ddl(conn, "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)
                _ddl(conn, "DROP DATABASE IF EXISTS {} WITH (FORCE)", building)
                _ddl(conn, "CREATE DATABASE {} TEMPLATE template0", building)
                migrate.upgrade(
                    pg_admin_url.set(database=building).render_as_string(hide_password=False)
                )
                _ddl(conn, "ALTER DATABASE {} RENAME TO {}", building, name)
                _ddl(conn, "ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false", name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (TEMPLATE_LOCK_KEY,))
    return name


# Everything a test could change in a schema, as one text to hash.
_SCHEMA_FINGERPRINT_SQL = """
SELECT md5(coalesce(string_agg(item, ';' ORDER BY item), '')) FROM (
  SELECT 'ns:' || nspname FROM pg_namespace
   WHERE nspname NOT LIKE 'pg_temp_%' AND nspname NOT LIKE 'pg_toast_temp_%'
  UNION ALL
  SELECT 'rel:' || n.nspname || '.' || c.relname || ':' || c.relkind::text || ':'
         || coalesce(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                     || CASE WHEN a.attnotnull THEN ' NN' ELSE '' END
                     || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), ''), '')
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
     AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'
  UNION ALL
  SELECT 'idx:' || schemaname || ':' || indexdef FROM pg_indexes
   WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT 'con:' || conrelid::regclass::text || ':' || conname || ':' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace <> 'pg_catalog'::regnamespace
  UNION ALL
  SELECT 'fn:' || p.oid::regprocedure::text FROM pg_proc p
   WHERE p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
  UNION ALL
  SELECT 'trg:' || tgrelid::regclass::text || ':' || tgname FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT 'ext:' || extname FROM pg_extension
  UNION ALL
  SELECT 'type:' || t.oid::regtype::text FROM pg_type t
   WHERE t.typnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
     AND t.typrelid = 0 AND t.typelem = 0
) AS schema_items(item)
"""


class PgPool:
    """One xdist worker's migrated PostgreSQL databases, each handed out clean."""

    def __init__(self, admin: URL, template: str, *, reuse: bool) -> None:
        self.admin = admin
        self.template = template
        self.reuse = reuse
        self.free: list[str] = []
        self.made: set[str] = set()
        self.fingerprint: str | None = None
        self.head = migrate.head()

    def url(self, name: str) -> str:
        return self.admin.set(database=name).render_as_string(hide_password=False)

    def _dsn(self, name: str) -> str:
        return _libpq(self.admin.set(database=name))

    def acquire(self) -> str:
        if self.free:
            return self.free.pop()
        name = _create_test_database(self.admin, self.template)
        self.made.add(name)
        if self.fingerprint is None:
            with psycopg.connect(self._dsn(name)) as conn:
                row = conn.execute(_SCHEMA_FINGERPRINT_SQL).fetchone()
                self.fingerprint = None if row is None else str(row[0])
        return name

    def release(self, name: str) -> None:
        if self.reuse and self._clean(name):
            self.free.append(name)
            return
        self.made.discard(name)
        _drop_database(self.admin, name)

    def _clean(self, name: str) -> bool:
        """Empty the database if its schema is untouched; False if it must be dropped."""
        with psycopg.connect(_libpq(self.admin), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
        try:
            with psycopg.connect(self._dsn(name)) as conn:
                fingerprint = conn.execute(_SCHEMA_FINGERPRINT_SQL).fetchone()
                version = conn.execute("SELECT version_num FROM alembic_version").fetchall()
                if fingerprint is None or fingerprint[0] != self.fingerprint:
                    return False
                if version != [(self.head,)]:
                    return False
                for table in reversed(metadata.sorted_tables):
                    _ddl(conn, "DELETE FROM {}", table.name)
                conn.execute(
                    "SELECT setval(c.oid, 1, false) FROM pg_class c"
                    " WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace"
                )
        except psycopg.Error:
            return False
        return True

    def close(self) -> None:
        for name in sorted(self.made):
            _drop_database(self.admin, name)
        self.made.clear()
        self.free.clear()


def _create_test_database(admin: URL, template: str) -> str:
    name = f"{TEST_DB_PREFIX}{int(time.time())}_{secrets.token_hex(4)}"
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        _ddl(conn, "CREATE DATABASE {} TEMPLATE {}", name, template)
    return name


def _drop_database(admin: URL, name: str) -> None:
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        _ddl(conn, "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)


@pytest.fixture(scope="session")
def pg_pool(pg_admin_url: URL, pg_template: str) -> Iterator[PgPool]:
    """This worker's pool of migrated PostgreSQL databases."""
    pool = PgPool(pg_admin_url, pg_template, reuse=os.environ.get(PG_REUSE_ENV, "1") != "0")
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the migrations' head (one per session and xdist worker)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database per test on each dialect: empty, or at head when the test also
    uses ``migrated_db_url`` / ``migrated_engine``."""
    migrated = "migrated_db_url" in request.fixturenames
    request.node.stash[_MIGRATED] = migrated
    if request.param == "sqlite":
        path = tmp_path / "orderbridge.db"
        if migrated:
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    if migrated:
        pool: PgPool = request.getfixturevalue("pg_pool")
        name = pool.acquire()
        try:
            yield pool.url(name)
        finally:
            pool.release(name)
        return
    admin: URL = request.getfixturevalue("pg_admin_url")
    name = _create_test_database(admin, "template0")
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_database(admin, name)


@pytest.fixture
def migrated_db_url(request: pytest.FixtureRequest, db_url: str) -> str:
    """``db_url`` with the schema at head."""
    if not request.node.stash.get(_MIGRATED, False):
        # Reached through getfixturevalue(): db_url could not know; migrate in place.
        migrate.upgrade(db_url)
    return db_url


@pytest.fixture
def migrated_engine(migrated_db_url: str) -> Iterator[Engine]:
    """An OrderBridge engine on a fresh database at head (both dialects)."""
    engine = make_engine(migrated_db_url)
    try:
        yield engine
    finally:
        engine.dispose()
