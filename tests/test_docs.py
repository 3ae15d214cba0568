"""The documentation stays true to the repository.

- Every environment variable the function reads has a row, with a default, in
  docs/configuration.md.
- Every relative link and every backticked repository path in README.md and docs/ names a
  file that exists.
- Nothing in the repository points outside it (the design notes it once cited now live in
  docs/), nor at a design file it does not carry.

Each check is a function over text, so the tests below also prove it finds a planted
mistake.
"""

from __future__ import annotations

import ast
import contextlib
import json
import re
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = REPO_ROOT / "function" / "pronto_sheets"
CONFIGURATION_PAGE = REPO_ROOT / "docs" / "configuration.md"

# The prefixes of the function's own variables, plus the one functions-framework reads.
ENV_NAME = re.compile(r"(?:PRONTO|GOOGLE|SHEETS|FIRESTORE)_[A-Z0-9_]*[A-Z0-9]|WORKERS")


# --- (a) every setting is documented ------------------------------------------------------


def env_names_in_source(source: str) -> set[str]:
    """Variable names a Python module reads: string constants that are exactly such a name,
    outside docstrings and `__all__` (however the reading is spelled: `env.get("X")`,
    `_number(env, "X", ...)`, a table of names)."""
    tree = ast.parse(source)
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skipped.add(id(body[0].value))  # a docstring
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            skipped.update(id(n) for n in ast.walk(node.value))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skipped
        and ENV_NAME.fullmatch(node.value)
    }


def env_names_in_data(data: object) -> set[str]:
    """Names a data file says are settings: the values of keys ending in `_setting`
    (vocabulary.json's `credits_setting`)."""
    found: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if key.endswith("_setting") and isinstance(value, str) and ENV_NAME.fullmatch(value):
                found.add(value)
            found |= env_names_in_data(value)
    elif isinstance(data, list):
        for item in data:
            found |= env_names_in_data(item)
    return found


class _RecordingEnv(Mapping[str, str]):
    """An environment that remembers every name asked of it."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = values
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return self._values[key]

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.asked.add(key)
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def env_names_read_by_settings() -> set[str]:
    """What `Settings.from_env` asks of the environment, in a few configurations (the
    Firestore store and the async lane read more)."""
    from pronto_sheets.settings import Settings

    asked: set[str] = set()
    for values in (
        {},
        {
            "PRONTO_STORE": "memory",
            "PRONTO_PUBLIC_URL": "https://function.example",
            "PRONTO_WEBHOOK_SECRET": "a-webhook-secret-of-the-right-shape",
        },
        {"PRONTO_STORE": "firestore", "GOOGLE_CLOUD_PROJECT": "p"},
        {"PRONTO_STORE": "firestore"},
    ):
        env = _RecordingEnv(values)
        # A refused configuration has still shown what it reads.
        with contextlib.suppress(Exception):
            Settings.from_env(env)
        asked |= env.asked
    return {name for name in asked if ENV_NAME.fullmatch(name)}


def env_names_of_the_function() -> set[str]:
    names = env_names_read_by_settings()
    for path in PACKAGE.rglob("*.py"):
        names |= env_names_in_source(path.read_text(encoding="utf-8"))
    for path in PACKAGE.rglob("*.json"):
        names |= env_names_in_data(json.loads(path.read_text(encoding="utf-8")))
    return names


def documented_settings(page: str) -> dict[str, str]:
    """Table rows of the page whose first cell names variables: name -> its default cell."""
    rows: dict[str, str] = {}
    for line in page.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not line.lstrip().startswith("|"):
            continue
        for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[0]):
            rows[name] = cells[1]
    return rows


def undocumented(names: set[str], page: str) -> list[str]:
    rows = documented_settings(page)
    return sorted(n for n in names if not rows.get(n, "").strip())


def test_every_variable_the_function_reads_is_documented_with_its_default() -> None:
    """docs/configuration.md has a row, default filled in, for each variable the function
    reads."""
    names = env_names_of_the_function()
    # The scan itself must work: these are read today, whatever the code's shape.
    assert {"PRONTO_API_KEY", "PRONTO_STORE", "PRONTO_CREDITS_PER_PHONE", "WORKERS"} <= names
    missing = undocumented(names, CONFIGURATION_PAGE.read_text(encoding="utf-8"))
    assert not missing, (
        f"Not documented in docs/configuration.md (a table row with a default): {missing}"
    )


def test_an_undocumented_variable_is_named() -> None:
    """A variable read in the code but absent from the table is reported by name."""
    source = (
        'def f(env):\n    """Reads PRONTO_DOCSTRING_ONLY."""\n    return env.get("PRONTO_NEW")\n'
    )
    page = "| variable | default | meaning |\n|---|---|---|\n| `PRONTO_OLD` | 1 | x |\n"
    assert env_names_in_source(source) == {"PRONTO_NEW"}
    assert undocumented({"PRONTO_NEW", "PRONTO_OLD"}, page) == ["PRONTO_NEW"]
    assert undocumented({"PRONTO_OLD"}, page.replace("| 1 |", "|  |")) == ["PRONTO_OLD"]


# --- (b) every link and file reference resolves -------------------------------------------


def documentation_files() -> list[Path]:
    return [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").rglob("*.md"))]


def _without_fenced_code(text: str) -> str:
    """The text with fenced code blocks blanked (commands there are not references)."""
    return re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.MULTILINE | re.DOTALL)


LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")


def broken_references(doc: Path, text: str, root: Path) -> list[str]:
    """Relative links, and backticked paths into the repository, that name no file."""
    text = _without_fenced_code(text)
    broken: list[str] = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL (http:, mailto:) or an anchor in the same page
        path = target.split("#", 1)[0].split("?", 1)[0]
        if path and not (doc.parent / path).exists():
            broken.append(f"{doc.relative_to(root)}: link {target}")
    top_level = {p.name for p in root.iterdir() if not p.name.startswith(".")}
    for span in CODE_SPAN.findall(text):
        path = span.strip().removeprefix("./")
        path = re.sub(r"(::\S*|:\d+(?:[-–]\d+)?)$", "", path)  # tests/x.py::test, file.py:12
        if re.search(r"\s|[<>{}$=@]|\.\.\.|…", path) or path.split("/", 1)[0] not in top_level:
            continue  # not a path into the repository (a command, a placeholder, a URL)
        if "/" not in path and "." not in path:
            continue  # a bare word that happens to name a folder
        if not any(root.glob(path.rstrip("/"))):
            broken.append(f"{doc.relative_to(root)}: file {span}")
    return broken


def test_every_link_and_file_reference_in_the_docs_exists() -> None:
    """README.md and the docs pages name only files that exist."""
    broken = [
        problem
        for doc in documentation_files()
        for problem in broken_references(doc, doc.read_text(encoding="utf-8"), REPO_ROOT)
    ]
    assert not broken, "References to missing files:\n" + "\n".join(broken)


def test_a_reference_to_a_missing_file_is_named(tmp_path: Path) -> None:
    """A link or a backticked path to a file that does not exist is reported, the rest
    not."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "function").mkdir()
    (tmp_path / "function" / "here.py").write_text("")
    (tmp_path / "docs" / "page.md").write_text("")
    doc = tmp_path / "docs" / "page.md"
    text = (
        "[ok](page.md#top) [web](https://example.com) ![gone](gone.png) `function/here.py` "
        "`function/here.py:3` `function/missing.py` `pronto-sheets fill` `deploy.sh`\n"
        "```\ncat function/also-missing.py `function/in-code.py`\n```\n"
    )
    page = "docs/" + "page.md"
    assert broken_references(doc, text, tmp_path) == [
        f"{page}: link gone.png",
        f"{page}: file function/missing.py",
    ]


# --- (c) the repository is self-contained -------------------------------------------------

# Spelled in pieces so that this file does not match itself.
OUTSIDE = ("../" + "shared", "shared" + "/seeds")
DESIGN_FILE = "DESIGN" + ".md"


def repository_files(root: Path) -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [root / name for name in listed.split("\0") if name and (root / name).is_file()]


def outside_references(files: list[Path], root: Path) -> list[str]:
    """Lines that point outside the repository, or at a design file it does not carry."""
    has_design = any(f.name == DESIGN_FILE for f in files)
    found: list[str] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary data
        for number, line in enumerate(text.splitlines(), 1):
            if any(word in line for word in OUTSIDE) or (not has_design and DESIGN_FILE in line):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return found


DOCS_PATH = re.compile(r"\bdocs/[A-Za-z0-9_./*-]+\.(?:md|png|txt|yaml|py)\b")


def missing_docs_references(files: list[Path], root: Path) -> list[str]:
    """Mentions of a `docs/...` file, anywhere in the repository, that name no file (the
    code's pointers to its design notes)."""
    found: list[str] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for target in DOCS_PATH.findall(line):
                if not any(root.glob(target)):
                    found.append(f"{path.relative_to(root)}:{number}: {target}")
    return found


def test_every_mention_of_a_docs_file_names_one_that_exists() -> None:
    """Code and configuration that send a reader to docs/ send them to a real page."""
    found = missing_docs_references(repository_files(REPO_ROOT), REPO_ROOT)
    assert not found, "No such file under docs/:\n" + "\n".join(found)


def test_a_mention_of_a_missing_docs_file_is_named(tmp_path: Path) -> None:
    """A planted pointer at a docs page that does not exist is reported, a real one not."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "real.md").write_text("")
    code = tmp_path / "code.py"
    code.write_text("# see docs/" + "real.md and docs/" + "gone.md\n")
    assert missing_docs_references([code], tmp_path) == ["code.py:1: docs/" + "gone.md"]


def test_nothing_points_outside_the_repository() -> None:
    """No file cites the shared folder beside the repository, or a design file that is
    not in it: the design notes are in docs/how-it-works.md, Pronto's page in
    docs/reference/."""
    found = outside_references(repository_files(REPO_ROOT), REPO_ROOT)
    assert not found, "Point these at docs/ instead:\n" + "\n".join(found)


def test_a_reference_outside_the_repository_is_named(tmp_path: Path) -> None:
    """A planted citation of the shared folder, or of a missing design file, is reported."""
    good, bad, design = tmp_path / "good.py", tmp_path / "bad.py", tmp_path / "d.py"
    good.write_text("# see docs/how-it-works.md\n")
    bad.write_text("x = 1\n# see " + OUTSIDE[1] + "/000.txt\n")
    design.write_text("# the rules of " + DESIGN_FILE + "\n")
    assert outside_references([good, bad, design], tmp_path) == [
        f"bad.py:2: # see {OUTSIDE[1]}/000.txt",
        f"d.py:1: # the rules of {DESIGN_FILE}",
    ]
