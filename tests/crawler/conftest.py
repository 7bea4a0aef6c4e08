from __future__ import annotations

import pytest


@pytest.fixture
def crawl_settings(settings):
    """The shared test settings plus tiny crawler delays and timeouts."""
    from core import settings as settings_mod

    s = settings_mod.configure(data_dir=settings.data_dir, database_url=settings.database_url,
                               secret_key="test-secret", celery_broker_url=None, celery_eager=True,
                               crawler_delay_seconds=0.0, crawler_timeout_seconds=0.5,
                               crawler_max_retries=1, crawler_user_agent="techmatch-test/1.0")
    yield s


@pytest.fixture
def sites():
    from fixture_site import start_sites

    univ, platform = start_sites(slow_seconds=1.5)
    yield univ, platform
    univ.stop()
    platform.stop()


@pytest.fixture
def site_vars(sites, monkeypatch):
    univ, platform = sites
    monkeypatch.setenv("FIXTURE_UNIV", univ.url)
    monkeypatch.setenv("FIXTURE_PLATFORM", platform.url)
    return {"FIXTURE_UNIV": univ.url, "FIXTURE_PLATFORM": platform.url}
