"""A stand-in for clasp (Google's Apps Script CLI): ``clasp pull`` and ``clasp push [--force]``.

The script projects live in the shared state under ``clasp.projects``: for each script id,
its ``files`` as the Apps Script API holds them (``name`` without extension, ``type``
SERVER_JS, HTML or JSON, ``source``). A test seeds them; a script id that is not there is
refused, as the API refuses a project that does not exist or that you may not open.

Both commands read ``.clasp.json`` from the current directory (``scriptId``, ``rootDir``
relative to that file), as clasp does:

- ``pull`` writes every file of the project into rootDir, named as clasp 3 names them
  (``NAME.js``, ``NAME.html``, ``appsscript.json``), skips files with no source (clasp
  does), lists them and says how many it pulled;
- ``push`` uploads ``appsscript.json`` and the ``.js``/``.gs``/``.html`` files of rootDir
  and, like the API's ``projects.updateContent``, replaces the whole project with them:
  files of the project that were not pushed are gone. Every push is also recorded under
  ``clasp.pushes`` (script id, file names, manifest as parsed JSON). Like clasp, it refuses
  without a project file or a manifest, and without ``--force`` it asks before overwriting
  a changed manifest, which fails when nobody can answer.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from standin_state import State, ToolError, finish_with, load_state, log_call, save_state

PUSHED_TYPES = {".js": "SERVER_JS", ".gs": "SERVER_JS", ".html": "HTML"}
PULLED_SUFFIXES = {"SERVER_JS": ".js", "HTML": ".html", "JSON": ".json"}
NOT_FOUND = "Requested entity was not found."


def project_settings() -> tuple[str, Path]:
    """The script id and the content folder named by ``./.clasp.json``."""
    project_file = Path.cwd() / ".clasp.json"
    if not project_file.is_file():
        raise ToolError("Project settings not found. Run clasp clone or clasp create first.")
    settings: dict[str, Any] = json.loads(project_file.read_text(encoding="utf-8"))
    script_id = settings.get("scriptId")
    if not script_id:
        raise ToolError("Could not find script ID in .clasp.json.")
    return str(script_id), (project_file.parent / settings.get("rootDir", ".")).resolve()


def remote_project(state: State, script_id: str) -> dict[str, Any]:
    project: dict[str, Any] | None = state.get("clasp", {}).get("projects", {}).get(script_id)
    if project is None:
        raise ToolError(NOT_FOUND)
    return project


def pull(argv: list[str]) -> str:
    if argv:
        raise ToolError(f"error: unknown option '{argv[0]}'")
    script_id, root = project_settings()
    files = remote_project(load_state(), script_id)["files"]
    written = []
    for file in files:
        if not file.get("source"):
            continue
        path = root / f"{file['name']}{PULLED_SUFFIXES[file['type']]}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file["source"], encoding="utf-8")
        written.append(os.path.relpath(path))
    listing = "".join(f"└─ {name}\n" for name in written)
    return f"{listing}Pulled {len(written)} files.\n"


def push(argv: list[str]) -> str:
    force = any(flag in {"-f", "--force"} for flag in argv)
    unknown = [flag for flag in argv if flag not in {"-f", "--force"}]
    if unknown:
        raise ToolError(f"error: unknown option '{unknown[0]}'")
    script_id, root = project_settings()
    manifest_path = root / "appsscript.json"
    if not manifest_path.is_file():
        raise ToolError("Manifest: appsscript.json not found in the project's rootDir.")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    state = load_state()
    project = remote_project(state, script_id)
    clasp = state.setdefault("clasp", {})
    pushes = clasp.setdefault("pushes", [])
    previous = [item for item in pushes if item["scriptId"] == script_id]
    if previous and previous[-1]["manifest"] != manifest and not force:
        raise ToolError(
            "Manifest file has been updated. Do you want to push and overwrite? (y/N) "
            "No answer: not pushed."
        )
    paths = sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and (path.suffix in PUSHED_TYPES or path == manifest_path)
    )
    project["files"] = [
        {
            "name": str(path.relative_to(root).with_suffix("")),
            "type": "JSON" if path == manifest_path else PUSHED_TYPES[path.suffix],
            "source": path.read_text(encoding="utf-8"),
        }
        for path in paths
    ]
    files = [str(path.relative_to(root)) for path in paths]
    pushes.append({"scriptId": script_id, "files": files, "manifest": manifest})
    save_state(state)
    listing = "".join(f"└─ {name}\n" for name in files)
    return f"{listing}Pushed {len(files)} files.\n"


COMMANDS = {"pull": pull, "push": push}


def main() -> None:
    argv = sys.argv[1:]
    log_call("clasp", argv)
    try:
        if not argv or argv[0] not in COMMANDS:
            known = " and ".join(COMMANDS)
            raise ToolError(
                f"error: unknown command '{argv[0] if argv else ''}' (stand-in knows {known})"
            )
        sys.stdout.write(COMMANDS[argv[0]](argv[1:]))
    except ToolError as error:
        finish_with(error)


if __name__ == "__main__":
    main()
