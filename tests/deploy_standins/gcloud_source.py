"""What ``gcloud functions deploy --source=DIR`` would upload: DIR less what it ignores.

gcloud decides it like this (googlecloudsdk/command_lib/functions/source_util.py and
command_lib/util/gcloudignore.py; ``gcloud topic gcloudignore``):

- ``DIR/.gcloudignore`` exists: its lines, in gitignore syntax, say what is left out
  (a comment ``#!include:NAME`` brings in the lines of DIR/NAME);
- otherwise, when DIR holds ``.git``, ``.gitignore`` or ``node_modules``: a default list
  (``.gcloudignore``, ``.git``, ``.gitignore``, ``node_modules``) plus the lines of
  ``DIR/.gitignore`` (gcloud also writes that default file into DIR; this stand-in does not);
- otherwise every file is uploaded.

Directories are walked top-down and an ignored directory is not entered, so nothing under
it can be brought back (as in git). Matching uses pathspec's ``GitIgnoreSpec``, which
follows git's rules: the last matching line wins, ``!`` re-includes, a trailing ``/``
matches directories only, a leading ``/`` anchors to DIR.
"""

from __future__ import annotations

import os
from pathlib import Path

IGNORE_FILE = ".gcloudignore"
DEFAULT_IGNORE_LINES = [".gcloudignore", ".git", ".gitignore", "node_modules"]
CREATION_TRIGGERS = (".git", ".gitignore", "node_modules")


def read_lines(path: Path) -> list[str]:
    """The lines of an ignore file, with gcloud's ``#!include:NAME`` expanded (one level)."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        directive = line[1:].lstrip() if line.startswith("#") else ""
        if directive.startswith("!include:"):
            lines += (path.parent / directive.removeprefix("!include:")).read_text().splitlines()
        else:
            lines.append(line)
    return lines


def ignore_lines(source: Path) -> list[str] | None:
    """The ignore lines gcloud would apply to ``source``, or None when it uploads all."""
    own = source / IGNORE_FILE
    if own.is_file():
        return read_lines(own)
    if not any((source / name).exists() for name in CREATION_TRIGGERS):
        return None
    lines = list(DEFAULT_IGNORE_LINES)
    gitignore = source / ".gitignore"
    if gitignore.is_file():
        lines += gitignore.read_text(encoding="utf-8").splitlines()
    return lines


def uploaded_files(source: Path) -> list[str]:
    """The files (POSIX paths relative to ``source``) gcloud would put in the upload."""
    import pathspec  # only deploys need it: every other call starts faster without it

    lines = ignore_lines(source)
    spec = pathspec.GitIgnoreSpec.from_lines(lines or [])
    chosen: list[str] = []
    for directory, subdirectories, files in os.walk(source, followlinks=True):
        relative = Path(directory).relative_to(source)
        for name in list(subdirectories):
            path = (relative / name).as_posix()
            if spec.match_file(path + "/"):
                subdirectories.remove(name)  # gcloud does not descend into it either
        chosen += [
            path
            for path in ((relative / name).as_posix() for name in files)
            if not spec.match_file(path)
        ]
    return sorted(chosen)
