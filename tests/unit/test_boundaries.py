"""Architecture rules that the import graph must obey (see docs/architecture.md).

Every import counts: at module level or inside a function, under ``TYPE_CHECKING`` or not,
absolute or relative (``from . import x``, ``from ..db import y`` are resolved against the
importing module). ``from package import name`` counts as importing ``package`` and, in case
``name`` is a submodule, ``package.name``.

Where main does not obey a rule yet, the modules that break it are listed in an allowlist,
each with what it imports that it should not. The lists must only shrink: a test fails on a
new offence, and also on an allowlisted offence that is gone (then delete its line), so each
list always says exactly what is left to do.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "orderbridge"

Offences = dict[str, frozenset[str]]


def _module(path: Path) -> str:
    """``src/orderbridge/web/api.py`` -> ``orderbridge.web.api`` (a package: its ``__init__``)."""
    parts = ["orderbridge", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(importer: str, is_package: bool, level: int, module: str | None) -> str:
    """The absolute name a ``from`` import of ``level`` dots names, seen from ``importer``."""
    if level == 0:
        return module or ""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, module] if module else base)


def imported_names(source: str, importer: str, *, is_package: bool = False) -> set[str]:
    """Every module name the code ``source`` of module ``importer`` may import."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(importer, is_package, node.level, node.module)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return found


@cache
def _graph() -> dict[str, frozenset[str]]:
    """Every module of ``src/orderbridge`` and the names it imports."""
    graph: dict[str, frozenset[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        name = _module(path)
        graph[name] = frozenset(imported_names(path.read_text(encoding="utf-8"), name,
                                               is_package=path.name == "__init__.py"))
    return graph


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _modules(*packages: str) -> Iterator[tuple[str, frozenset[str]]]:
    for name, imports in _graph().items():
        if any(_within(name, p) for p in packages):
            yield name, imports


def _offences(importers: Iterator[tuple[str, frozenset[str]]], forbidden: tuple[str, ...]) -> Offences:
    """Module -> the forbidden prefixes it imports (modules without any are left out)."""
    found: Offences = {}
    for name, imports in importers:
        bad = frozenset(p for p in forbidden if any(_within(i, p) for i in imports))
        if bad:
            found[name] = bad
    return found


def _assert_exactly(found: Offences, allowed: Offences, rule: str) -> None:
    new = {m: sorted(found[m] - allowed.get(m, frozenset())) for m in found}
    gone = {m: sorted(allowed[m] - found.get(m, frozenset())) for m in allowed}
    new = {m: v for m, v in new.items() if v}
    gone = {m: v for m, v in gone.items() if v}
    assert not new, f"{rule}: new offences {new}"
    assert not gone, f"{rule}: fixed, delete from the allowlist: {gone}"


# --- the database port -------------------------------------------------------------

DB = "orderbridge.adapters.db"
# Database libraries and the adapter's insides: only adapters/db may import them.
DB_INSIDES = ("sqlalchemy", "alembic", "psycopg", f"{DB}.tables")

# Engine modules that still write SQL themselves (issue 15, item 1: being moved into
# adapters/db). Delete a line when its module goes through the package surface.
SQL_OUTSIDE_DB: Offences = {}


def _private_db_modules(imports: frozenset[str]) -> bool:
    return any(_within(i, DB) and i[len(DB) + 1 :].startswith("_") for i in imports)


def test_only_adapters_db_touches_the_database() -> None:
    outside = [(n, i) for n, i in _graph().items() if not _within(n, DB)]
    found = _offences(iter(outside), DB_INSIDES)
    for name, imports in outside:
        if _private_db_modules(imports):
            found[name] = found.get(name, frozenset()) | {f"{DB}._private"}
    _assert_exactly(found, SQL_OUTSIDE_DB, "SQL outside adapters/db")


# --- the layers ----------------------------------------------------------------------


def test_domain_imports_only_the_standard_library() -> None:
    allowed_stdlib = set(sys.stdlib_module_names) | {"__future__"}
    bad = sorted(
        f"{name} imports {i}" for name, imports in _modules("orderbridge.domain") for i in imports
        if not _within(i, "orderbridge.domain") and i.split(".")[0] not in allowed_stdlib
    )
    assert bad == []


def test_sandboxes_never_import_the_clients() -> None:
    _assert_exactly(_offences(_modules("orderbridge.sandbox"), ("orderbridge.adapters",)), {},
                    "sandbox -> adapters")


def test_clients_never_import_the_sandboxes() -> None:
    _assert_exactly(_offences(_modules("orderbridge.adapters"), ("orderbridge.sandbox",)), {},
                    "adapters -> sandbox")


def test_adapters_import_no_layer_above_them() -> None:
    above = ("orderbridge.engine", "orderbridge.web", "orderbridge.cli", "orderbridge.demo",
             "orderbridge.bootstrap")
    _assert_exactly(_offences(_modules("orderbridge.adapters"), above), {}, "adapters -> above")


def test_the_engine_never_imports_the_entry_points() -> None:
    above = ("orderbridge.web", "orderbridge.cli", "orderbridge.demo")
    _assert_exactly(_offences(_modules("orderbridge.engine"), above), {}, "engine -> web/cli/demo")


def test_the_web_never_imports_the_command_line_or_the_demo() -> None:
    above = ("orderbridge.cli", "orderbridge.demo")
    _assert_exactly(_offences(_modules("orderbridge.web"), above), {}, "web -> cli/demo")


# Only the entry points import the composition root (``bootstrap.Services``); engine and
# web modules take the narrowest protocol of ``engine/ports.py`` instead (issue 15, item 2).
ENTRY_POINTS = ("orderbridge.cli", "orderbridge.demo", "orderbridge.__main__")
BOOTSTRAP = "orderbridge.bootstrap"
SERVICES_OUTSIDE_ENTRY_POINTS: Offences = {}


def test_only_the_entry_points_import_the_composition_root() -> None:
    importers = ((n, i) for n, i in _graph().items()
                 if n != BOOTSTRAP and not any(_within(n, e) for e in ENTRY_POINTS))
    _assert_exactly(_offences(importers, (BOOTSTRAP,)), SERVICES_OUTSIDE_ENTRY_POINTS,
                    "bootstrap outside the entry points")


# --- module size ---------------------------------------------------------------------

# A module stays under this many lines (docs/architecture.md; issue 15, item 5): past it, it
# is split along a seam into sibling modules or a subpackage.
MAX_MODULE_LINES = 400
# Modules still over, each with why (the list may only shrink: a module that is no longer
# over fails the test until its line goes).
OVERSIZED_MODULES: dict[str, str] = {}  # module -> why it may stay over the limit for now


def test_no_module_is_over_the_line_limit() -> None:
    found: Offences = {}
    for path in sorted(SRC.rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            found[_module(path)] = frozenset({f"over {MAX_MODULE_LINES} lines"})
    allowed = {m: frozenset({f"over {MAX_MODULE_LINES} lines"}) for m in OVERSIZED_MODULES}
    _assert_exactly(found, allowed, f"modules over {MAX_MODULE_LINES} lines")


# --- the rules' own reading of imports ----------------------------------------------


def test_relative_imports_are_resolved_against_the_importer() -> None:
    source = "from . import tables\nfrom ..db import _sql\nfrom .links import LinkRow\nimport sqlalchemy.exc\n"
    assert imported_names(source, "orderbridge.adapters.db.orders") >= {
        "orderbridge.adapters.db.tables", "orderbridge.adapters.db._sql",
        "orderbridge.adapters.db.links", "sqlalchemy.exc"}
    assert "orderbridge.web.intake" in imported_names("from . import intake\n", "orderbridge.web",
                                                      is_package=True)
    assert "orderbridge.bootstrap" in imported_names("from .. import bootstrap\n", "orderbridge.web.api")


def test_an_offence_is_found_however_it_is_imported() -> None:
    for source in ("from orderbridge.adapters.db import tables", "from orderbridge.adapters.db.tables import inbox",
                   "import orderbridge.adapters.db.tables", "from ..adapters.db import tables",
                   "def f():\n    from sqlalchemy import select\n"):
        names = frozenset(imported_names(source, "orderbridge.web.api"))
        assert _offences(iter([("orderbridge.web.api", names)]), DB_INSIDES), source
    private = frozenset(imported_names("from ..adapters.db import _sql", "orderbridge.web.api"))
    assert _private_db_modules(private)
    public = frozenset(imported_names("from orderbridge.adapters.db import links, transaction",
                                      "orderbridge.web.api"))
    assert not _private_db_modules(public)
    assert not _offences(iter([("orderbridge.web.api", public)]), DB_INSIDES)


def test_a_stale_allowlist_entry_fails() -> None:
    allowed = {"orderbridge.engine.x": frozenset({"sqlalchemy"})}
    with pytest.raises(AssertionError, match="delete from the allowlist"):
        _assert_exactly({}, allowed, "rule")
    with pytest.raises(AssertionError, match="new offences"):
        _assert_exactly({"orderbridge.engine.x": frozenset({"sqlalchemy", "alembic"})}, allowed, "rule")
