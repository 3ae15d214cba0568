"""The layout shows the architecture: the deployed package never reaches into the tools.

function/pronto_sheets is what Cloud Functions runs; tools/ (the CLI, the simulator, the
Sheets emulator, the local stack) is installed with the project but never deployed. The
import graph below is read from the source (ast), so a stray import fails here before it
fails a deploy.
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


def test_line_counts(capsys: object) -> None:
    """The deployed package and the dev tools, in lines of Python (printed for the note)."""
    deployed = sum(len(p.read_text().splitlines()) for p in DEPLOYED.rglob("*.py"))
    tools = sum(len(p.read_text().splitlines()) for p in TOOLS.rglob("*.py"))
    print(f"\nlines: deployed package {deployed}, tools (CLI and dev) {tools}")
    assert deployed > 0 and tools > 0
