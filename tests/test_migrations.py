"""Migrations: the chain builds the schema the models describe, from empty, on both databases."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from kim_app import create_app
from kim_app.extensions import db, described_by_models


def _head(app) -> str:
    config = app.extensions["migrate"].migrate.get_config(app.extensions["migrate"].directory)
    return ScriptDirectory.from_config(config).get_current_head()


def test_test_database_is_at_head_and_matches_the_models(app):
    """The run's database (SQLite or PostgreSQL, migrated from empty) equals the models."""
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": described_by_models})
        assert context.get_current_revision() == _head(app)
        assert compare_metadata(context, db.metadata) == []


def test_upgrade_from_empty_and_downgrade_to_empty_on_sqlite(tmp_path):
    """A fresh SQLite file goes up to head and back down to nothing."""
    fresh = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.sqlite3",
        }
    )
    with fresh.app_context():
        upgrade()
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"regions", "users", "audit_log", "alembic_version"} <= tables
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
