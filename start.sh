#!/usr/bin/env bash
# Start the whole system on its embedded default: SQLite, in-process worker and scheduler.
# First start: creates .venv, installs Gallra, migrates, creates the demo organization and
# prints the administrator's password. Serves http://127.0.0.1:8000
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import core, litestar, piccolo" 2>/dev/null || [ pyproject.toml -nt .venv/.installed ]; then
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -e .
  touch .venv/.installed
fi
exec .venv/bin/gallra serve --demo "$@"
