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


def _insert(conn, table: str, **values) -> None:
    """A row with ``values`` and a plain stand-in for every other required column."""
    for column in sa.inspect(conn).get_columns(table):
        if column["nullable"] or column["name"] in values or column.get("default") is not None:
            continue
        if column.get("autoincrement") is True or column["name"] == "id":
            continue
        python = getattr(column["type"], "python_type", str)
        values[column["name"]] = {int: 0, bool: False}.get(python, "x")
        if python.__name__ in ("datetime", "date"):
            values[column["name"]] = "2026-01-01 00:00:00"
    names = ", ".join(values)
    conn.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES (:{', :'.join(values)})"), values)


def test_0012_fills_origin_from_the_kims_village_and_keeps_the_tally_triggers(tmp_path):
    """Upgrading to 0012 gives a KIM's registrations the KIM's village as origin (others stay
    empty), keeps the tally triggers on registrations, and goes back down to 0010 with them."""
    fresh = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/o.sqlite3",
        }
    )
    with fresh.app_context():
        upgrade(revision="0010")
        with db.engine.begin() as conn:
            conn.execute(sa.text("PRAGMA foreign_keys=OFF"))
            for code, level, parent in (
                ("64", "provinsi", None),
                ("64.09", "kabupaten", "64"),
                ("64.09.03", "kecamatan", "64.09"),
                ("64.09.03.2006", "desa", "64.09.03"),
            ):
                _insert(conn, "regions", code=code, name=code, level=level, parent_code=parent)
            _insert(conn, "kims", id=1, name="KIM", village_code="64.09.03.2006", status="draft")
            _insert(
                conn,
                "events",
                id=1,
                code="e1",
                region_code="64",
                title="Forum",
                kind="forum_kemitraan",
            )
            for rid, kim in ((1, 1), (2, None)):
                _insert(
                    conn, "registrations", id=rid, event_id=1, kim_id=kim, name=f"P{rid}",
                    phone=f"+62812000{rid}", source="mandiri", status="terdaftar",
                    ticket=f"t{rid}", checkin_code=f"C{rid}",
                )  # fmt: skip
        upgrade()
        with db.engine.connect() as conn:
            origins = conn.execute(
                sa.text("SELECT id, origin_code FROM registrations ORDER BY id")
            ).all()
            triggers = conn.execute(
                sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).scalars()
            assert "tally_person_changed" in set(triggers)
        assert [tuple(r) for r in origins] == [(1, "64.09.03.2006"), (2, None)]
        downgrade(revision="0010")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("registrations")}
        assert "origin_code" not in columns
        with db.engine.connect() as conn:
            names = conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
            assert "tally_person_changed" in set(names.scalars())
        db.engine.dispose()
