"""Browser tests: the real server (``gallra serve`` on 127.0.0.1, a free port) driven by
Playwright through Debian's Chromium (/usr/bin/chromium, headless).

The server runs in a subprocess on the test session's data directory and database (fresh
for every run, migrated by tests/conftest.py), with its embedded worker and scheduler, so a
test makes tenants and reads the SMS outbox directly, as an administrator without an SMS
gateway would. Every test saves a screenshot of each page it visits under
``test-artifacts/browser/<test>/``.

Never run ``playwright install``: the browser is the system's. Without /usr/bin/chromium
the tests are skipped, unless GALLRA_REQUIRE_BROWSER=1 (CI sets it) makes that a failure.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CODE_RE = re.compile(r"\b(\d{6})\b")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a ``browser`` test (``-m "not browser"`` leaves them out).

    Under pytest-xdist (test.sh: ``--dist loadgroup``) they run in two groups, each in one
    worker, one module after another, so two servers and two Chromiums serve them all
    instead of one per worker; the groups take about the same time (:data:`FIRST_GROUP`)."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)
            group = "browser-1" if item.path.name in FIRST_GROUP else "browser-2"
            item.add_marker(pytest.mark.xdist_group(group))


#: The modules of the first browser group: the Swedish crawl, the longest by far, and a few
#: short ones, about half of the folder's time (``pytest tests/browser --durations=0``).
FIRST_GROUP = {
    "test_every_page_swedish.py",
    "test_passkeys.py",
    "test_admin_flow.py",
    "test_vault.py",
    "test_portal_records.py",
}


_db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="browser-test-db")


def run(coro: Any) -> Any:
    """Run a database coroutine from a browser test. Playwright's synchronous API keeps an
    event loop running in the test's thread, so the coroutine runs in a thread of its own."""
    async def _await() -> Any:
        return await coro

    return _db_thread.submit(asyncio.run, _await()).result()


@pytest.fixture
def tenant() -> Any:
    """A new organization with every module (a synchronous fixture: see :func:`run`)."""
    from tests.support import make_tenant

    return run(make_tenant())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _need_chromium() -> None:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("GALLRA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")


@contextmanager
def serving(host: str | None = None, name: str = "server") -> Iterator[str]:
    """``gallra serve`` on 127.0.0.1 and a free port; with ``host``, reached as
    ``http://<host>:<port>``, which GALLRA_BASE_URL then says (passkeys need a domain such as
    ``localhost`` for their relying party, not an IP address)."""
    port = _free_port()
    env = dict(os.environ)
    env.pop("GALLRA_BROKER_URL", None)  # the embedded worker delivers SMS to the outbox
    base = f"http://{host or '127.0.0.1'}:{port}"
    if host:
        env["GALLRA_BASE_URL"] = base
    # One server per xdist worker (its own free port, data directory and database).
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    log = ARTIFACTS / (f"{name}-{worker}.log" if worker else f"{name}.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    out = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            out.close()
            raise RuntimeError(f"the server stopped: see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code in (200, 503):
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the server did not start in 60 s: see {log}")
        time.sleep(0.2)
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        out.close()


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    _need_chromium()
    with serving() as base:
        yield base


class _Chromium:
    """One Chromium (and one Playwright driver) for each run of browser tests that follow
    one another in a worker, started by the first and stopped after the last (launching
    them cost about 0.8 s of CPU, once per module before). Not for the whole session:
    Playwright's synchronous API keeps an event loop running in this thread while it is
    started, and the asynchronous tests of the other folders need the thread free, so it
    stops whenever the worker's next test is not a browser test
    (:func:`pytest_runtest_teardown`)."""

    def __init__(self) -> None:
        self.playwright: Any = None
        self.browser: Any = None

    def get(self) -> Any:
        if self.browser is None:
            from playwright.sync_api import sync_playwright

            self.playwright = sync_playwright().start()
            self.browser = self.playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        return self.browser

    def stop(self) -> None:
        browser, playwright = self.browser, self.playwright
        self.browser = self.playwright = None
        try:
            if browser is not None:
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()


_chromium = _Chromium()


@pytest.fixture
def browser(server: str) -> Any:
    """Chromium: the run's (:class:`_Chromium`); each test makes contexts of its own."""
    return _chromium.get()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After the test's own fixtures (its browser contexts) are torn down, stop Chromium
    unless the next test of this worker is a browser test too."""
    yield
    if nextitem is None or HERE not in nextitem.path.parents:
        _chromium.stop()


#: Screenshots are for a person to look at; .ci/run, which keeps no files, sets
#: GALLRA_SHOTS=0 (full-page screenshots were a third of the Swedish crawl's time).
SAVE_SHOTS = os.environ.get("GALLRA_SHOTS", "1") != "0"


class Shots:
    """Screenshots of the pages a test visits, numbered in order."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.n = 0
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()

    def __call__(self, page: Any, name: str) -> Path:
        self.n += 1
        path = self.folder / f"{self.n:02d}-{name}.png"
        if SAVE_SHOTS:
            page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Shots:
    return Shots(ARTIFACTS / request.node.name)


@pytest.fixture
def new_page(browser: Any, server: str) -> Iterator[Any]:
    """``new_page()``: a page in a fresh browser context (a new device, no cookies);
    call it again with the same context to keep the cookies (the same device)."""
    contexts: list[Any] = []

    def make(context: Any | None = None) -> Any:
        if context is None:
            context = browser.new_context(base_url=server, locale="sv-SE")
            context.set_default_timeout(15_000)
            contexts.append(context)
        return context.new_page()

    yield make
    for c in contexts:
        c.close()


def last_sms_code(tenant_id: int, after_id: int = 0, timeout: float = 15.0) -> str:
    """The code of the newest SMS to the tenant (the outbox provider keeps them)."""
    from core.tables import Outbox

    deadline = time.monotonic() + timeout
    while True:
        rows = run(
            Outbox.select(Outbox.id, Outbox.body)
            .where((Outbox.tenant_id == tenant_id) & (Outbox.channel == "sms") & (Outbox.id > after_id))
            .order_by(Outbox.id, ascending=False)
        )
        for row in rows:
            match = CODE_RE.search(row["body"])
            if match:
                return match.group(1)
        if time.monotonic() > deadline:
            raise AssertionError("no SMS code arrived in the outbox")
        time.sleep(0.2)


def login(page: Any, tenant: Any, email: str | None = None, password: str | None = None) -> None:
    page.goto("/login")
    page.get_by_label("Organisation").fill(tenant.slug)
    page.get_by_label("E-post").fill(email or tenant.admin_email)
    page.get_by_label("Lösenord").fill(password or tenant.password)
    page.get_by_role("button", name="Logga in").click()
