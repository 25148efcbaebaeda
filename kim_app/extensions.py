"""Flask extensions, created unbound here and bound in ``create_app`` with ``init_app``."""

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base with constraint names Alembic can find again on every database."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)

# Indexes a migration makes on PostgreSQL only and the models do not describe (trigram search
# indexes, see migration 0008; KIM in name order for the dashboard, 0021); schema comparisons
# leave them out.
DATABASE_ONLY_INDEXES = frozenset(
    {"ix_kims_name_key_trgm", "ix_regions_name_trgm", "ix_kims_lower_name"}
)
# Tables a migration makes on PostgreSQL only: the rate limiter's counts (kim_app.ratelimits;
# with SQLite they live in a file of their own)
DATABASE_ONLY_TABLES = frozenset({"rate_limits"})


def described_by_models(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's ``include_object``: everything but ``DATABASE_ONLY_INDEXES`` and
    ``DATABASE_ONLY_TABLES``."""
    if type_ == "table":
        return name not in DATABASE_ONLY_TABLES
    return not (type_ == "index" and name in DATABASE_ONLY_INDEXES)


migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def client_address() -> str:
    """The caller's address as the rate limiter and audit log see it."""
    return request.remote_addr or "-"
