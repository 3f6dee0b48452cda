#!/usr/bin/env bash
# Start the whole system on its embedded default: SQLite, in-process worker and scheduler.
# First start: creates .venv, installs Gallra, migrates, creates the demo organization and
# prints the administrator's password. Serves http://127.0.0.1:8000
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-python3}"
# Python caches what it compiles (the project's modules) even where the environment says not
# to: without the cache every start compiles all it imports again (about a second).
unset PYTHONDONTWRITEBYTECODE
# Installs with uv (from PyPI; seconds where pip takes minutes, the same versions), or with pip
# when uv cannot be had (offline, say). Both leave the packages compiled to bytecode (uv only
# when asked), so no process compiles them again (below).
install() {
  if .venv/bin/python -m pip install --quiet --disable-pip-version-check uv >/dev/null 2>&1 \
    && .venv/bin/python -m uv pip install --quiet --compile-bytecode --python .venv/bin/python "$@"; then
    return
  fi
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet "$@"
}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import core, litestar, piccolo" 2>/dev/null || [ pyproject.toml -nt .venv/.installed ]; then
  install -e .
  touch .venv/.installed
fi
exec .venv/bin/gallra serve --demo "$@"
