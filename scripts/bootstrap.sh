#!/usr/bin/env bash
# Make this clone ready to run: a virtualenv with the project and its test tools.
# Idempotent and quiet when there is nothing to do; sourced by demo.sh and test.sh.
# The function's dependencies come from function/requirements.txt, the deploy's lock, so
# tests run on exactly what gets deployed; the rest (CLI, dev tools, tests) from pyproject.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml function/requirements.txt | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet --require-hashes -r function/requirements.txt
  .venv/bin/python -m pip install --quiet -e '.[test]'
  rm -f .venv/.installed-* && touch "$stamp"
fi
