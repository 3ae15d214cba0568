#!/usr/bin/env bash
# The main job on the built-in default: the function served against the Pronto
# simulator, enriching the sample leads.csv through POST /enrich. No keys needed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
exec .venv/bin/pronto-sheets demo "$@"
