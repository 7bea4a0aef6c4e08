"""A newcomer's start: `bash scripts/demo --port P` (the README's command) on a fresh clone
with a fresh data dir, until the home page answers in Chromium.

The clone reuses the virtualenv this test runs in (``.venv`` linked to it,
TECHMATCH_NO_INSTALL=1), so what is measured is init + demo data + indexing + proposals +
server start, not package downloads. The time is printed (pytest -s, or the report's captured
output); the only limit is a generous safety timeout."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, _free_port

pytestmark = [pytest.mark.browser]
SAFETY_TIMEOUT = 900


def test_fresh_clone_demo_answers_and_renders(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed")
    clone = tmp_path / "techmatch"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True, timeout=300)
    os.symlink(Path(sys.prefix), clone / ".venv")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TECHMATCH_") and k not in ("DATABASE_URL", "PYTHONPATH", "VIRTUAL_ENV")}
    env.update(TECHMATCH_NO_INSTALL="1", PYTHONUNBUFFERED="1")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "demo.log", "w")
    t0 = time.monotonic()
    proc = subprocess.Popen(["bash", "scripts/demo", "--port", str(port)], cwd=clone, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while True:
            try:
                if httpx.get(base + "/", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() - t0 > SAFETY_TIMEOUT:
                pytest.fail("the demo did not start:\n" + (tmp_path / "demo.log").read_text()[-3000:])
            time.sleep(0.5)
        answered = time.monotonic() - t0
        load = os.getloadavg()[0]
        print(f"\nfresh clone: `bash scripts/demo` answered after {answered:.1f} s (load average {load:.1f})")
        assert (clone / "data" / "techmatch.db").exists()  # its own fresh data dir
        out = (tmp_path / "demo.log").read_text()
        assert "载入撮合推荐" in out and "撮合推荐计算中" not in out  # the shipped proposals were used

        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = b.new_page()
            page.goto(base + "/login")
            page.get_by_label("邮箱").fill("broker@demo.techmatch.cn")
            page.get_by_label("密码").fill("broker-demo-2026")
            page.get_by_role("button", name="登录").click()
            page.wait_for_url("**/broker/queue**")
            assert page.locator("main").inner_text().count("待审核") >= 1
            b.close()
        print(f"fresh clone: broker queue rendered after {time.monotonic() - t0:.1f} s")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
