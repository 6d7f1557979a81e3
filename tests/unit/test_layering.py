"""The layering (docs/ARCHITECTURE.md): front doors → catalogue → storage → SQL, contracts at
the root. Read from every module's imports, including those inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".venv", "build", "tests", "bench", "packaging", "docs", "bin"}

# The front doors: each parses its own requests and shapes its own answers, and none imports
# another (what two of them share lives in the catalogue or in web's shared modules).
FRONT_DOORS = (
    "soniquebay.web.rest",
    "soniquebay.web.gql",
    "soniquebay.web.browse_pages",
    "soniquebay.web.listening_pages",
    "soniquebay.web.pages",
    "soniquebay.web.track_pages",
    "soniquebay.web.account_pages",
    "soniquebay.web.listening",
    "soniquebay.web.duplicates_api",
    "soniquebay.web.jobs_api",
    "soniquebay.web.subsonic",
)
# The process entry points may reach every layer; the other root modules are contracts and
# shared tools, below everything.
ENTRY_POINTS = {"soniquebay.cli", "soniquebay.__main__", "soniquebay.doctor"}


def modules() -> dict[str, set[str]]:
    """Every module of the package → the soniquebay modules it imports."""
    found: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in SKIP:
            continue
        parts = list(rel.with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        name = ".".join(["soniquebay", *parts])
        package = name if is_package else name.rpartition(".")[0]
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
            if isinstance(node, ast.Import):
                imported.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                imported.add(base)
                imported.update(f"{base}.{a.name}" for a in node.names)
        found[name] = {m for m in imported if m == "soniquebay" or m.startswith("soniquebay.")}
    return found


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def offences(importer_in: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{name} imports {imported}"
        for name, imports in modules().items()
        if within(name, importer_in)
        for imported in imports
        if any(within(imported, f) for f in forbidden)
    )


def test_the_package_is_read_whole():
    found = modules()
    assert {"soniquebay.web.rest", "soniquebay.catalog.tracks", "soniquebay.library.db"} <= set(
        found
    )
    assert "soniquebay.web.params" in found["soniquebay.web.rest"]


def test_storage_imports_no_front_door_no_process_no_particular_plugin():
    assert (
        offences(
            "soniquebay.library",
            (
                "soniquebay.web",
                "soniquebay.daemon",
                "soniquebay.catalog",
                "soniquebay.plugins.builtin",
            ),
        )
        == []
    )


def test_the_catalogue_imports_no_front_door_and_no_process():
    assert offences("soniquebay.catalog", ("soniquebay.web", "soniquebay.daemon")) == []


def test_no_front_door_imports_another():
    found = modules()
    crossing = sorted(
        f"{name} imports {imported}"
        for name, imports in found.items()
        for door in FRONT_DOORS
        if within(name, door)
        for imported in imports
        for other in FRONT_DOORS
        if other != door and within(imported, other)
    )
    assert crossing == []


def test_contracts_at_the_root_import_no_layer_above_them():
    found = modules()
    root = [n for n in found if n.count(".") == 1 and n not in ENTRY_POINTS]
    above = ("soniquebay.web", "soniquebay.daemon", "soniquebay.catalog")
    assert (
        sorted(
            f"{name} imports {imported}"
            for name in root
            for imported in found[name]
            if any(within(imported, a) for a in above)
        )
        == []
    )


def test_contrib_plugins_use_the_public_surface_only():
    """What ships as an example of a plugin imports what any plugin may: ``soniquebay``'s
    markers, errors and helpers, never the web, the storage layer, the catalogue or the
    processes (the web process's ``ctx.library`` is their way to read the library)."""
    assert (
        offences(
            "soniquebay.plugins.contrib",
            ("soniquebay.web", "soniquebay.library", "soniquebay.catalog", "soniquebay.daemon"),
        )
        == []
    )
