#!/usr/bin/env bash
# Run the whole test suite. SQLite by default; PostgreSQL when GALLRA_TEST_DATABASE_URL is
# set; broker tests use Redis when GALLRA_TEST_BROKER_URL is set. Extra arguments go to pytest.
# The tests run in parallel on every core (pytest-xdist, -n auto; each worker has its own data
# directory and PostgreSQL database; the browser tests share one worker: --dist loadgroup);
# `./test.sh -n 0 ...` runs them in one process (for --pdb, or -x in order).
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-python3}"
# Python caches what it compiles (the project's modules, and pytest its rewritten tests) even
# where the environment says not to: without the cache every process, each test worker and
# each server or worker a test starts, compiles all it imports again (a second a process;
# a minute of the suite's time on two cores).
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
if ! .venv/bin/python -c "import core, pytest, time_machine, xdist" 2>/dev/null || [ pyproject.toml -nt .venv/.installed-test ]; then
  install -e ".[test]"
  touch .venv/.installed-test
fi
exec .venv/bin/python -m pytest -n "${GALLRA_TEST_WORKERS:-auto}" --dist loadgroup "$@"
