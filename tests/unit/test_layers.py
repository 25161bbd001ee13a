"""The dependency rule, kept true by reading the imports: SQL lives only in wuxin.store."""
from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "wuxin"
PURE = ("domain", "security", "ledger", "trace", "indicators", "risk", "alerts", "loans", "calendars", "commands")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_the_store_imports_sqlalchemy_or_database_drivers():
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.relative_to(SRC).parts[0] in ("store", "bench") or path.name == "bootstrap.py":
            continue  # the store, the wiring and the benchmarks' raw baselines
        for name in imported_modules(path):
            if name.split(".")[0] in ("sqlalchemy", "alembic", "psycopg", "sqlite3"):
                offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert offenders == []


def test_pure_cores_import_no_services_api_or_store():
    offenders = []
    for package in PURE:
        for path in (SRC / package).rglob("*.py") if (SRC / package).is_dir() else []:
            for name in imported_modules(path):
                if name.startswith(("wuxin.services", "wuxin.api", "wuxin.store", "wuxin.cli")):
                    offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert offenders == []


def test_adapters_reach_the_database_only_through_services():
    offenders = [f"{path.relative_to(SRC)} imports {name}" for path in (SRC / "ingest").rglob("*.py")
                 for name in imported_modules(path) if name.startswith("wuxin.store")]
    assert offenders == []
