"""Generate apps_script/Vocabulary.js from the one vocabulary file, or check it is current.

    python -m pronto_sheets_dev.vocabulary_js           # write apps_script/Vocabulary.js
    python -m pronto_sheets_dev.vocabulary_js --check   # exit 1 when it is stale

The add-in cannot read a JSON file at run time (Apps Script projects hold .js and .html
files), so the vocabulary travels as a generated constant. tests/test_vocabulary.py
fails when the committed file differs from what this would write.
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path

import click

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "apps_script" / "Vocabulary.js"
SOURCE = "function/pronto_sheets/vocabulary.json"


def render() -> str:
    """The text of Vocabulary.js for the vocabulary file as it is now."""
    raw = json.loads(
        resources.files("pronto_sheets").joinpath("vocabulary.json").read_text("utf-8")
    )
    body = json.dumps(raw, ensure_ascii=False, indent=2)
    return (
        "/**\n"
        f" * Vocabulary: GENERATED from {SOURCE} by\n"
        " * `python -m pronto_sheets_dev.vocabulary_js`. Do not edit: change the JSON file\n"
        " * and run the command (a test fails while this file is stale).\n"
        " *\n"
        " * The sheet vocabulary the add-in shares with the function: enrichment types and\n"
        " * their columns, status codes, header synonyms, output headers, messages, the done\n"
        " * rule's data and how a contact's identity is folded.\n"
        " */\n"
        "\n"
        "/** @type {*} */\n"
        f"const VOCABULARY = Object.freeze({body});\n"
    )


@click.command()
@click.option("--check", is_flag=True, help="Exit 1 when the file differs; write nothing.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_OUT,
    show_default=True,
    help="Where Vocabulary.js lives.",
)
def main(check: bool, out: Path) -> None:
    """Write (or check) the add-in's copy of the vocabulary."""
    text = render()
    current = out.read_text(encoding="utf-8") if out.exists() else None
    if check:
        if current != text:
            click.echo(
                f"{out} is stale: run `python -m pronto_sheets_dev.vocabulary_js`.", err=True
            )
            sys.exit(1)
        click.echo(f"{out} is current.")
        return
    if current != text:
        out.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {out}.")
    else:
        click.echo(f"{out} was already current.")


if __name__ == "__main__":
    main()
