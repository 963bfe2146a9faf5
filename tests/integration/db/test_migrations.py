"""Migrations: from empty to head and back, and the tables match the migrations."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, inspect

from orderbridge.adapters.db import SchemaMismatch, make_engine, metadata, migrate


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_then_downgrade_to_base(db_url: str) -> None:
    assert migrate.current(db_url) is None
    with pytest.raises(SchemaMismatch, match="orderbridge db upgrade"):
        migrate.check(db_url)

    migrate.upgrade(db_url)
    assert migrate.current(db_url) == migrate.head()
    migrate.check(db_url)
    assert set(metadata.tables) <= _tables(db_url)
    migrate.upgrade(db_url)  # idempotent

    migrate.downgrade(db_url, "base")
    assert migrate.current(db_url) is None
    assert _tables(db_url) <= {"alembic_version"}
    migrate.upgrade(db_url)
    assert migrate.schema_diffs(db_url) == []


def test_models_match_migrations(migrated_db_url: str) -> None:
    assert migrate.schema_diffs(migrated_db_url) == []


def test_compare_detects_drift(migrated_db_url: str) -> None:
    # The comparison itself must be able to fail, or the test above proves nothing.
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    drifted = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(drifted)
    Table("order_links", drifted, Column("extra", Integer), extend_existing=True)
    engine = make_engine(migrated_db_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), drifted)
    finally:
        engine.dispose()
    assert [d[0] for d in diffs] == ["add_column"]


def test_check_refuses_unknown_revision(migrated_engine_url_unknown: str) -> None:
    with pytest.raises(SchemaMismatch, match="newer version"):
        migrate.check(migrated_engine_url_unknown)


@pytest.fixture
def migrated_engine_url_unknown(migrated_db_url: str) -> str:
    engine = make_engine(migrated_db_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffff_future'")
    finally:
        engine.dispose()
    return migrated_db_url


def test_migrations_ship_inside_the_package() -> None:
    assert migrate.MIGRATIONS_DIR.is_dir()
    assert (migrate.MIGRATIONS_DIR / "env.py").is_file()
    assert (migrate.MIGRATIONS_DIR / "script.py.mako").is_file()
    assert any((migrate.MIGRATIONS_DIR / "versions").glob("0001_*.py"))
    assert migrate.head() == "0003"


def test_concurrent_upgrades_serialise(db_url: str) -> None:
    # Separate processes, as in production (several workers starting at once).
    code = "import sys; from orderbridge.adapters.db import migrate; migrate.upgrade(sys.argv[1])"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, db_url], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err.decode()
    assert migrate.current(db_url) == migrate.head()
    assert migrate.schema_diffs(db_url) == []


def test_threads_in_one_process_take_turns(db_url: str) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            migrate.upgrade(db_url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert errors == []
    assert migrate.current(db_url) == migrate.head()


def test_make_revision_writes_nothing_when_models_match(
    migrated_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Point the script location at a copy so the package is never touched.
    import shutil

    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, copy)
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", copy)
    migrate.make_revision(migrated_db_url, "nothing", rev_id="0004")
    [generated] = (copy / "versions").glob("0004_*.py")
    text = generated.read_text()
    assert "op." not in text.split("def upgrade")[1]  # no schema change to migrate
    assert "down_revision: str | None = '0003'" in text
