"""Alembic, driven from code: no alembic.ini needed (one is shipped for developers too)."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from core.settings import get_settings


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "core:migrations")
    cfg.set_main_option("sqlalchemy.url", (url or get_settings().resolved_database_url).replace("%", "%%"))
    return cfg


def upgrade(revision: str = "head", url: str | None = None) -> None:
    get_settings().ensure_data_dir()
    command.upgrade(alembic_config(url), revision)


def downgrade(revision: str = "base", url: str | None = None) -> None:
    command.downgrade(alembic_config(url), revision)


def current_heads(url: str | None = None) -> set[str]:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(url or get_settings().resolved_database_url)
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())
