#!/usr/bin/env bash
# Every test: lint and types (ruff, mypy), Python (pytest, with coverage of the deployed
# package), Apps Script (Node, headless Chromium; its own lint and tsc), deploy.sh
# (shellcheck, inside pytest).
# Installs what it needs first: virtualenv, npm packages (Apps Script tests, the Firestore
# emulator), Debian's chromium and shellcheck.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/bootstrap.sh

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v shellcheck >/dev/null 2>&1 || need_apt+=(shellcheck)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  fi
fi

if [ -f tests/apps_script/package.json ]; then
  (cd tests/apps_script && npm ci --no-audit --no-fund --loglevel=error)
fi
# The Firestore emulator (gRPC) that the store tests start.
(cd tests/firestore_emulator && npm ci --no-audit --no-fund --loglevel=error)

status=0
.venv/bin/ruff check function tools tests bench scripts docs/hooks || status=1
.venv/bin/ruff format --check --quiet function tools tests bench scripts docs/hooks || status=1
.venv/bin/mypy || status=1
# The docs build's own hook (not a package, so named by path).
.venv/bin/mypy --strict docs/hooks || status=1
# Known vulnerabilities with a fix in the deploy's lock, from PyPI's advisories (pip-audit,
# then PyPI's project pages for what a lagging mirror cannot serve; every call times out).
.venv/bin/python scripts/audit_lock.py --warn-unaudited || status=1
# The documentation site (mkdocs.yml): --strict fails on a dead link or a missing page
# (never with --quiet, which hides the warnings --strict counts).
docs_site="$(mktemp -d)"
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --site-dir "$docs_site" || status=1
rm -rf "$docs_site"
# The deployed package's layers ([tool.importlinter] in pyproject.toml, docs/code-layout.md).
.venv/bin/lint-imports --no-cache || status=1
# Two workers (one per core; each module stays on one worker, so its servers start once),
# with line coverage of the deployed package, its total printed (pyproject.toml's
# [tool.coverage]). Then, alone and untraced, the tests whose assertions depend on speed
# (marked `timing` in tests/conftest.py): a busy second worker would change what they see.
# PRONTO_TEST_WORKERS=4 or `./scripts/test.sh -n 0` changes the workers; arguments go to both.
.venv/bin/python -m pytest -n "${PRONTO_TEST_WORKERS:-2}" --dist loadfile -m "not timing" \
  --cov --cov-report=term "$@" || status=1
timing=0
.venv/bin/python -m pytest -n 0 -m timing "$@" || timing=$?
# Exit 5 is "no test selected": arguments that name no timing test.
if [ "$timing" -ne 0 ] && [ "$timing" -ne 5 ]; then
  status=1
fi
if [ -f tests/apps_script/package.json ]; then
  (cd tests/apps_script && npm test) || status=1
fi
exit $status
