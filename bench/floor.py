"""The bare-stack floor: Flask + SQLAlchemy with nothing of KIM on top.

One endpoint does the same kind of single-row write as a roll-call tap — look the client id up,
INSERT one row into its own small table (unique client id), read the row back, commit, answer a
small HTML fragment — on the same database as the dataset being measured, served by gunicorn with
the same settings as the app. The roll-call tap's throughput divided by this one's is the ratio
DESIGN §6 budgets (≥ 0.7).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/kim_bench gunicorn --workers 5 bench.floor:app

``prepare(url)`` creates (or empties) the table before the workers start, so they never race on
``CREATE TABLE``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, abort, request
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

TABLE = "bench_floor_marks"


class Base(DeclarativeBase):
    pass


class FloorMark(Base):
    __tablename__ = TABLE

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    registration: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(12))
    marked_at: Mapped[datetime]


def engine_url(url: str) -> str:
    """The same URL rules as the app: psycopg 3 for PostgreSQL."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **options) -> sa.Engine:
    """An engine set up as the app sets up its own on SQLite — WAL, busy timeout, and write
    requests begun with ``BEGIN IMMEDIATE`` (without it, a read-then-write under concurrent
    writers fails with "database is locked") — so the floor pays what the app pays for a correct
    write and nothing more. Only that engine setup is shared with the app."""
    engine = sa.create_engine(engine_url(url), **options)
    if engine.dialect.name == "sqlite":
        from kim_app.db import prepare_sqlite

        prepare_sqlite(engine)
    return engine


def prepare(url: str) -> None:
    """Create the floor's table, or empty it when it is there."""
    engine = make_engine(url)
    try:
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(sa.delete(FloorMark))
    finally:
        engine.dispose()


def create_app(url: str | None = None) -> Flask:
    flask_app = Flask(__name__)
    engine = make_engine(url or os.environ["DATABASE_URL"], pool_pre_ping=True)

    @flask_app.post("/tap")
    def tap():
        client_id = request.form.get("client_id", "")[:40]
        status = request.form.get("status", "")
        registration = request.form.get("registration", type=int)
        if not client_id or registration is None or status not in ("hadir", "belum"):
            abort(422)
        with Session(engine) as db:
            seen = db.scalar(sa.select(FloorMark.id).where(FloorMark.client_id == client_id))
            if seen is None:
                db.add(
                    FloorMark(
                        client_id=client_id,
                        registration=registration,
                        status=status,
                        marked_at=datetime.now(UTC).replace(tzinfo=None),
                    )
                )
                db.flush()
            row = db.scalars(sa.select(FloorMark).where(FloorMark.client_id == client_id)).one()
            db.commit()
            return f'<tr id="p{row.registration}" data-status="{row.status}"><td>{row.id}</td></tr>'

    @flask_app.get("/healthz")
    def healthz():
        return "ok"

    return flask_app


app = create_app() if "DATABASE_URL" in os.environ else None
