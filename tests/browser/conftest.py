"""Live-server fixtures for the headless Chromium tests.

A fresh data dir (SQLite, embedded search index, in-process tasks) is seeded by
``tests.browser.seed`` in a subprocess, then ``uvicorn api.main:create_app`` serves it on a
random 127.0.0.1 port in another subprocess. Chromium is Debian's ``/usr/bin/chromium``
(``apt-get install -y chromium``), driven by Playwright.

Screenshots go to ``$TECHMATCH_SCREENSHOT_DIR`` when set (``docs/screenshots`` for the
README), else to the test's tmp dir.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("TECHMATCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(data_dir: Path) -> dict:
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("TECHMATCH_") and k not in ("TECHMATCH_SCREENSHOT_DIR", "TECHMATCH_CHROMIUM"):
            env.pop(k)
    env.pop("DATABASE_URL", None)
    # pages are checked right after each action: tasks run in the server process (eager)
    env.update(TECHMATCH_DATA_DIR=str(data_dir), TECHMATCH_SECRET_KEY="browser-test-secret",
               TECHMATCH_CELERY_EAGER="1", PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return env


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """(base_url, seeded accounts) of a live server on a fresh data dir."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)")
    data_dir = tmp_path_factory.mktemp("browser") / "data"
    env = _env(data_dir)
    seeded = subprocess.run([sys.executable, "-m", "tests.browser.seed"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    accounts = json.loads(seeded.stdout.strip().splitlines()[-1])
    port = _free_port()
    log = open(data_dir / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 300  # generous: the machine may be shared and loaded
        while True:
            try:
                if httpx.get(base + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("server did not start:\n" + (data_dir / "server.log").read_text()[-3000:])
            time.sleep(0.3)
        yield base, accounts
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    d = Path(os.environ.get("TECHMATCH_SCREENSHOT_DIR") or tmp_path / "screenshots")
    d.mkdir(parents=True, exist_ok=True)
    return d


class Session:
    """One logged-in browser context (its own cookies)."""

    def __init__(self, browser, base: str, viewport=DESKTOP):
        self.base = base
        self.context = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
        self.context.set_default_timeout(60000)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.logged_in = False
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        # what the Content-Security-Policy blocked (an inline script or style, a foreign source)
        self.page.on("console", lambda m: self.errors.append(m.text) if "Content Security Policy" in m.text else None)

    def go(self, path: str):
        return self.page.goto(self.base + path)

    def login(self, account: dict):
        self.go("/login")
        self.page.get_by_label("邮箱").fill(account["email"])
        self.page.get_by_label("密码").fill(account["password"])
        self.page.get_by_role("button", name="登录").click()
        self.page.wait_for_load_state()
        self.logged_in = True
        return self

    def close(self):
        self.context.close()


@pytest.fixture
def open_session(browser, live):
    made: list[Session] = []

    def _open(account: dict | None = None, viewport=DESKTOP) -> Session:
        s = Session(browser, live[0], viewport)
        made.append(s)
        if account:
            s.login(account)
        return s

    yield _open
    for s in made:
        s.close()
