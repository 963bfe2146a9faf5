"""UTCDateTime: aware UTC out, naive refused in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from orderbridge.adapters.db.engine import make_engine
from orderbridge.adapters.db.types import UTCDateTime
from orderbridge.errors import ConfigurationError

_PARIS = timezone(timedelta(hours=2))


def test_bind_converts_to_utc_naive_on_sqlite_aware_on_postgresql() -> None:
    value = datetime(2026, 6, 1, 14, 0, tzinfo=_PARIS)
    t = UTCDateTime()
    assert t.process_bind_param(value, sqlite.dialect()) == datetime(2026, 6, 1, 12, 0)
    pg = t.process_bind_param(value, postgresql.dialect())
    assert pg == datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert pg is not None
    assert pg.tzinfo is UTC
    assert t.process_bind_param(None, sqlite.dialect()) is None


def test_bind_refuses_naive_and_non_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), sqlite.dialect())
    with pytest.raises(TypeError):
        UTCDateTime().process_bind_param("2026-01-01", sqlite.dialect())  # type: ignore[arg-type]


def test_result_is_aware_utc() -> None:
    t = UTCDateTime()
    naive = t.process_result_value(datetime(2026, 1, 1, 5), sqlite.dialect())
    assert naive == datetime(2026, 1, 1, 5, tzinfo=UTC)
    assert naive is not None
    assert naive.tzinfo is UTC
    aware = t.process_result_value(datetime(2026, 1, 1, 7, tzinfo=_PARIS), postgresql.dialect())
    assert aware == datetime(2026, 1, 1, 5, tzinfo=UTC)
    assert aware is not None
    assert aware.tzinfo is UTC
    assert t.process_result_value(None, sqlite.dialect()) is None


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("postgresql+psycopg2://u@h/db", "psycopg 3"),
        ("mysql://u@h/db", "unsupported database"),
    ],
)
def test_make_engine_refuses_unsupported_urls(url: str, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        make_engine(url)
