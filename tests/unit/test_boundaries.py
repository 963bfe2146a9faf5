"""Architecture rules that the import graph must obey (see docs/architecture.md)."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "orderbridge"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in sorted((SRC / package).rglob("*.py")):
        for name in _imports(path):
            if name.startswith(forbidden):
                bad.append(f"{path.relative_to(SRC)} imports {name}")
    return bad


def test_sandboxes_never_import_the_clients() -> None:
    assert _violations("sandbox", ("orderbridge.adapters",)) == []


def test_clients_never_import_the_sandboxes() -> None:
    assert _violations("adapters", ("orderbridge.sandbox",)) == []


def test_domain_imports_only_the_standard_library() -> None:
    import sys

    allowed_stdlib = set(sys.stdlib_module_names)
    bad = []
    for path in sorted((SRC / "domain").rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if name.startswith("orderbridge.domain") or top in allowed_stdlib or top == "__future__":
                continue
            bad.append(f"{path.relative_to(SRC)} imports {name}")
    assert bad == []


def test_the_workers_reach_the_database_through_named_functions_only() -> None:
    # worker.py and link_work.py: no SQL, no tables, no wiring (issue 14); what they use of
    # the database is adapters/db's named functions, of the wiring ``passes.EngineServices``.
    forbidden = ("sqlalchemy", "orderbridge.adapters.db.tables", "orderbridge.bootstrap")
    bad = []
    for name in ("worker.py", "link_work.py"):
        path = SRC / "engine" / name
        bad += [f"{name} imports {m}" for m in _imports(path) if m.startswith(forbidden)]
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines < 400, f"{name} has {lines} lines"
    assert bad == []
