from sqlalchemy import create_engine, inspect

from core import migrate
from core.db import Base


def test_migrations_run_down_and_up(settings, db_url):
    """Every migration reverses cleanly; head matches the models."""
    migrate.downgrade("base", url=db_url)
    engine = create_engine(db_url)
    try:
        tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        migrate.upgrade("head", url=db_url)
        engine.dispose()
        tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert tables == {t.name for t in Base.metadata.sorted_tables}
    finally:
        engine.dispose()
        migrate.upgrade("head", url=db_url)


def test_models_match_migrations(settings, db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(db_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = [d for d in compare_metadata(ctx, Base.metadata)]
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
