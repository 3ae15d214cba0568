"""A stand-in for clasp (Google's Apps Script CLI): ``clasp push [--force]``, as clasp does it.

It reads ``.clasp.json`` from the current directory (``scriptId``, ``rootDir`` relative to
that file), collects the files clasp would upload from rootDir (``appsscript.json`` and
``.js``/``.gs``/``.html`` files), and records the push in the shared state under
``clasp.pushes``: the script id, the file names and the manifest as parsed JSON. Like
clasp, it refuses without a project file or a manifest, and without ``--force`` it asks
before overwriting the remote manifest, which fails when nobody can answer.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from standin_state import ToolError, finish_with, load_state, log_call, save_state

PUSHED_SUFFIXES = {".js", ".gs", ".html"}


def push(argv: list[str]) -> str:
    force = any(flag in {"-f", "--force"} for flag in argv)
    unknown = [flag for flag in argv if flag not in {"-f", "--force"}]
    if unknown:
        raise ToolError(f"error: unknown option '{unknown[0]}'")
    project_file = Path.cwd() / ".clasp.json"
    if not project_file.is_file():
        raise ToolError("Project settings not found. Run clasp clone or clasp create first.")
    settings: dict[str, Any] = json.loads(project_file.read_text(encoding="utf-8"))
    script_id = settings.get("scriptId")
    if not script_id:
        raise ToolError("Could not find script ID in .clasp.json.")
    root = (project_file.parent / settings.get("rootDir", ".")).resolve()
    manifest_path = root / "appsscript.json"
    if not manifest_path.is_file():
        raise ToolError("Manifest: appsscript.json not found in the project's rootDir.")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    state = load_state()
    clasp = state.setdefault("clasp", {"pushes": []})
    previous = [item for item in clasp["pushes"] if item["scriptId"] == script_id]
    if previous and previous[-1]["manifest"] != manifest and not force:
        raise ToolError(
            "Manifest file has been updated. Do you want to push and overwrite? (y/N) "
            "No answer: not pushed."
        )
    files = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and (path.suffix in PUSHED_SUFFIXES or path == manifest_path)
    )
    clasp["pushes"].append({"scriptId": script_id, "files": files, "manifest": manifest})
    save_state(state)
    listing = "".join(f"└─ {name}\n" for name in files)
    return f"{listing}Pushed {len(files)} files.\n"


def main() -> None:
    argv = sys.argv[1:]
    log_call("clasp", argv)
    try:
        if not argv or argv[0] != "push":
            raise ToolError(
                f"error: unknown command '{argv[0] if argv else ''}' (stand-in knows push)"
            )
        sys.stdout.write(push(argv[1:]))
    except ToolError as error:
        finish_with(error)


if __name__ == "__main__":
    main()
