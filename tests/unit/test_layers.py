"""The dependency rule, kept true by reading the imports: SQL lives only in wuxin.store."""

from __future__ import annotations

import ast
import re
from graphlib import CycleError, TopologicalSorter
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
                if name.startswith(("wuxin.services", "wuxin.api", "wuxin.store", "wuxin.cli", "wuxin.bench")):
                    offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert offenders == []


def test_adapters_reach_the_database_only_through_services():
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in (SRC / "ingest").rglob("*.py")
        for name in imported_modules(path)
        if name.startswith("wuxin.store")
    ]
    assert offenders == []


def test_no_core_package_imports_the_scenario_packs():
    """The cores receive the packs as arguments (wuxin.services.bootstrap composes them)."""
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for package in PURE
        for path in (SRC / package).rglob("*.py")
        for name in imported_modules(path)
        if name.startswith("wuxin.scenarios")
    ]
    assert offenders == []


def pack_and_device_type_names() -> tuple[set[str], set[str]]:
    """Every pack's name and every device type, read from the packs themselves."""
    from wuxin.scenarios import scenario_packs

    packs = scenario_packs()
    return set(packs), {t for pack in packs.values() for t in pack.device_types}


def naming_strings(path: Path) -> list[str]:
    """The string literals of a Python module (docstrings and f-string parts included)."""
    return [
        node.value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def is_bench(path: Path) -> bool:
    rel = path.relative_to(SRC)
    return rel.parts[0] == "bench" or rel.name == "bench.py" or rel.name.startswith("bench_")


# Words that are a pack's name by coincidence: the console map's field of moving units (services/console/timeline.py,
# any device reporting lat/lon, whatever its pack), an API field name kept for its clients, and its i18n key.
API_FIELDS = {"vehicles"}


def test_no_string_outside_the_packs_names_a_pack_or_a_device_type():
    """Outside scenarios/, tests and bench code, no string literal is a pack's name or holds a device type
    (Python, JavaScript, HTML and JSON alike): the platform finds devices by role and industries through the packs."""
    names, device_types = pack_and_device_type_names()
    type_pattern = re.compile("|".join(re.escape(t) for t in sorted(device_types)))
    name_pattern = re.compile(r"""["'`](%s)["'`]""" % "|".join(re.escape(n) for n in sorted(names)))
    offenders = []
    for path in sorted(SRC.rglob("*")):
        if not path.is_file() or path.relative_to(SRC).parts[0] == "scenarios" or is_bench(path):
            continue
        if path.suffix == ".py":
            for text in naming_strings(path):
                if (text in names and text not in API_FIELDS) or type_pattern.search(text):
                    offenders.append(f"{path.relative_to(SRC)}: {text[:80]!r}")
        elif path.suffix in (".js", ".html", ".json"):
            text = path.read_text(encoding="utf-8")
            offenders += [f"{path.relative_to(SRC)}: {m.group(0)}" for m in type_pattern.finditer(text)]
            offenders += [
                f"{path.relative_to(SRC)}: {m.group(0)}"
                for m in name_pattern.finditer(text)
                if m.group(1) not in API_FIELDS
            ]
    assert offenders == []


def test_the_naming_check_finds_a_named_pack_and_device_type(tmp_path):
    names, device_types = pack_and_device_type_names()
    pack, device_type = sorted(names)[0], sorted(device_types)[0]
    module = tmp_path / "m.py"
    module.write_text(f'"""Reads {device_type}."""\nKIND = {pack!r}\n', encoding="utf-8")
    found = naming_strings(module)
    assert pack in found and any(device_type in s for s in found)


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """wuxin module -> the wuxin modules it imports (lazy imports inside functions count: they are loops too)."""
    modules = {module_name(path): path for path in SRC.rglob("*.py") if "migrations" not in path.parts}
    graph: dict[str, set[str]] = {module: set() for module in modules}
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:  # `from a.b import c`: a.b.c when c is a module
                targets = [
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                    for a in node.names
                ]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[module].update(t for t in targets if t in modules and t != module)
    return graph


def test_no_import_loops_among_modules():
    try:
        TopologicalSorter(import_graph()).prepare()
    except CycleError as loop:
        raise AssertionError(f"import loop: {' -> '.join(loop.args[1])}") from None


def test_entry_points_live_in_cli_and_bench():
    entry_points = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.stem in ("cli", "bench", "harness") and path.parent.name not in ("cli", "bench")
    ]
    assert entry_points == []


def test_the_day_cut_is_defined_once():
    """DAY_MS, HOUR_MS, CN_OFFSET_MS and local_day live in indicators/days.py; everyone else imports them."""
    names, definitions = {"DAY_MS", "HOUR_MS", "CN_OFFSET_MS", "local_day"}, []
    for path in SRC.rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = (
                [node.name]
                if isinstance(node, ast.FunctionDef)
                else [
                    e.id
                    for t in getattr(node, "targets", [])
                    for e in (t.elts if isinstance(t, ast.Tuple) else [t])
                    if isinstance(e, ast.Name)
                ]
            )
            definitions += [f"{path.relative_to(SRC)}: {name}" for name in targets if name in names]
    assert sorted(definitions) == sorted(f"indicators/days.py: {name}" for name in names)


def test_no_string_outside_the_packs_names_a_kind_a_pack_declares():
    """A business-data kind a pack adds (business.json `kinds`) is named only by its pack: the cores read which kind
    a check uses from the pack's declaration (e.g. checks.json `generation_bills`)."""
    from wuxin.scenarios import scenario_packs

    kinds = {
        k["kind"] for pack in scenario_packs().values() for k in pack.document("business.json", {}).get("kinds", [])
    }
    assert kinds  # the check has something to look for
    pattern = re.compile(r"\b(%s)\b" % "|".join(re.escape(k) for k in sorted(kinds)))
    offenders = [
        f"{path.relative_to(SRC)}: {text[:80]!r}"
        for path in sorted(SRC.rglob("*.py"))
        if path.relative_to(SRC).parts[0] != "scenarios" and not is_bench(path)
        for text in naming_strings(path)
        if pattern.search(text)
    ]
    assert offenders == []
