"""CPU time spent per request, for benches run on a busy machine (helpers of the bench scripts).

Requests per second move with whatever else the machine is doing; the CPU time the server
process and the database's backends spend per request moves far less. Linux only (reads
/proc); the database part needs PostgreSQL (SQLite runs inside the server process).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from urllib.parse import urlsplit, urlunsplit

TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) the process ``pid`` has used, its threads included."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class DatabaseCPU:
    """CPU seconds of the PostgreSQL backends serving one database (``url``), counted over
    the backends alive at :meth:`start` and at :meth:`stop` (a backend that started and
    ended in between is missed; the application's pool keeps its connections)."""

    def __init__(self, url: str | None) -> None:
        self.url = url if url and url.startswith("postgres") else None
        self.before: dict[int, float] = {}
        self.sessions_before: int | None = None
        self.new_connections: int | None = None

    def _backends(self) -> dict[int, float]:
        if not self.url:
            return {}
        parts = urlsplit(self.url)
        database = parts.path.lstrip("/")
        admin = urlunsplit(parts._replace(path="/postgres"))
        out = subprocess.run(
            ["psql", admin, "-Atc", f"SELECT pid FROM pg_stat_activity WHERE datname = '{database}'"],
            capture_output=True, text=True, check=False,
        ).stdout.split()
        found = {}
        for pid in out:
            with contextlib.suppress(OSError, ValueError):
                found[int(pid)] = process_cpu(int(pid))
        return found

    def _sessions(self) -> int | None:
        """Connections ever made to the database (``pg_stat_database.sessions``): the
        backends this class's CPU figure misses, the short-lived ones, show up here."""
        if not self.url:
            return None
        parts = urlsplit(self.url)
        admin = urlunsplit(parts._replace(path="/postgres"))
        out = subprocess.run(
            ["psql", admin, "-Atc",
             f"SELECT sessions FROM pg_stat_database WHERE datname = '{parts.path.lstrip('/')}'"],
            capture_output=True, text=True, check=False,
        ).stdout.strip()
        return int(out) if out.isdigit() else None

    def start(self) -> None:
        self.before = self._backends()
        self.sessions_before = self._sessions()
        self.new_connections = None

    def stop(self) -> float | None:
        if not self.url:
            return None
        after = self._backends()
        sessions = self._sessions()
        if sessions is not None and self.sessions_before is not None:
            self.new_connections = sessions - self.sessions_before
        return sum(cpu - self.before.get(pid, 0.0) for pid, cpu in after.items())


def analyze(url: str | None) -> None:
    """PostgreSQL: fresh planner statistics after the seed, as autovacuum keeps them in
    production. A server without autovacuum (this machine's, for one) otherwise plans every
    statement for tables it thinks empty: the search index flush read the new event-log row
    through a partial index of the whole log (0.75 ms a create at 2,700 rows, growing),
    where the primary key takes 0.005 ms."""
    if url and url.startswith("postgres"):
        subprocess.run(["psql", url, "-qc", "ANALYZE"], check=True)
