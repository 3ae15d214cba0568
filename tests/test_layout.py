"""The layout shows the architecture: the deployed package never reaches into the tools,
and its folders import each other in one direction only.

function/pronto_sheets is what Cloud Functions runs; tools/ (the CLI, the simulator, the
Sheets emulator, the local stack) is installed with the project but never deployed. The
import graph below is read from the source (ast), so a stray import fails here before it
fails a deploy. The layers themselves (http -> sheets -> enrich -> store -> settings,
results -> vocabulary, errors) are import-linter's contracts in pyproject.toml, run by
scripts/test.sh; docs/code-layout.md draws them.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.servers import REPO_ROOT

DEPLOYED = REPO_ROOT / "function" / "pronto_sheets"
TOOLS = REPO_ROOT / "tools"
# Imported only by the tools: a deployed module importing one would drag it into the deploy.
DEV_ONLY = ("pronto_sheets_dev", "pronto_sheets_cli", "tests", "rich", "pathspec")


def _module_name(path: Path) -> str:
    relative = path.relative_to(DEPLOYED.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Each deployed module and the modules it imports (absolute names)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(DEPLOYED.rglob("*.py")):
        module = _module_name(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    imported.add(f"{base}.{node.module}" if node.module else base)
                elif node.module:
                    imported.add(node.module)
        graph[module] = imported
    return graph


def test_the_deployed_package_imports_no_dev_tool() -> None:
    """No arrow from function/pronto_sheets into the simulator, the emulator, the CLI,
    the tests or a library only the tools use."""
    arrows = {
        (module, target)
        for module, targets in import_graph().items()
        for target in targets
        if target.split(".")[0] in DEV_ONLY
    }
    assert arrows == set()


def test_every_deployed_module_is_reached_from_the_entry_point() -> None:
    """Nothing dead ships: every deployed module is imported, directly or not, by the
    function's entry point (or is a package's __init__)."""
    graph = import_graph()
    seen: set[str] = set()
    todo = ["pronto_sheets.http.entry"]  # what function/main.py imports
    while todo:
        module = todo.pop()
        if module in seen or module not in graph:
            continue
        seen.add(module)
        todo.extend(t for t in graph[module] if t.startswith("pronto_sheets"))
    packages = {m for m in graph if (DEPLOYED.parent / m.replace(".", "/")).is_dir()}
    assert set(graph) - seen - packages == set()


def package_graph() -> dict[str, set[str]]:
    """The import graph one level down: `pronto_sheets.enrich.engine` counts as
    `pronto_sheets.enrich` (the root package's own re-exports left out)."""

    def part(module: str) -> str:
        return ".".join(module.split(".")[:2])

    graph: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        if module == "pronto_sheets":
            continue
        arrows = graph.setdefault(part(module), set())
        arrows.update(
            part(t) for t in targets if t.startswith("pronto_sheets.") and part(t) != part(module)
        )
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first walk (each as the path that closes it)."""
    found: list[list[str]] = []
    done: set[str] = set()

    def walk(node: str, path: list[str]) -> None:
        if node in path:
            found.append([*path[path.index(node) :], node])
            return
        if node in done:
            return
        for target in sorted(graph.get(node, ())):
            walk(target, [*path, node])
        done.add(node)

    for node in sorted(graph):
        walk(node, [])
    return found


def test_the_package_s_folders_import_each_other_in_no_cycle() -> None:
    """http, sheets, enrich, store and the shared modules at the bottom form an order: no
    folder imports one that imports it back, directly or not."""
    assert cycles(package_graph()) == []


def test_the_store_and_the_shared_types_import_nothing_above_them() -> None:
    """The result types live at the bottom with the vocabulary and the errors: the store
    and they never import the enricher, the sheets code or the HTTP layer."""
    graph = package_graph()
    above = {"pronto_sheets.enrich", "pronto_sheets.sheets", "pronto_sheets.http"}
    bottom = ["pronto_sheets.store", "pronto_sheets.results", "pronto_sheets.settings"]
    assert {name: graph[name] & above for name in bottom} == {name: set() for name in bottom}


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above can fail: a two-folder loop is reported."""
    assert cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b", "a"]]


def test_line_counts(capsys: object) -> None:
    """The deployed package and the dev tools, in lines of Python (printed for the note)."""
    deployed = sum(len(p.read_text().splitlines()) for p in DEPLOYED.rglob("*.py"))
    tools = sum(len(p.read_text().splitlines()) for p in TOOLS.rglob("*.py"))
    print(f"\nlines: deployed package {deployed}, tools (CLI and dev) {tools}")
    assert deployed > 0 and tools > 0
