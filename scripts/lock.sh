#!/usr/bin/env bash
# Regenerate function/requirements.txt, the deploy's lock (pinned, with hashes), from
# pyproject.toml: run it after changing the function's dependencies, then commit the lock.
# Needs PyPI. `scripts/lock.sh --check` only reports whether the lock is stale.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
if [ ! -x .venv/bin/uv ]; then
  .venv/bin/python -m pip install --quiet "$(.venv/bin/python -c '
import tomllib
print(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["lock"][0])
')"
fi
.venv/bin/python scripts/lock.py "$@"
# The venv follows the new lock (bootstrap.sh reinstalls when the lock changes).
bash scripts/bootstrap.sh
