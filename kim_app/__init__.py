"""KIM: Komunitas Informasi Masyarakat registry, events and attendance."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Flask, g, url_for
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from kim_app import config as cfg
from kim_app import ratelimits, transactions
from kim_app.db import prepare_sqlite
from kim_app.extensions import (
    babel,
    csrf,
    described_by_models,
    limiter,
    login_manager,
    migrate,
)
from kim_app.extensions import db as database  # `kim_app.db` stays the module of helpers
from kim_app.security import MAX_RECORD_ID

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: defaults, then instance/config.py, then environment, then ``config``."""
    app = transactions.TransactionalFlask(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(cfg.Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(cfg.from_environment())
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = cfg.instance_secret_key(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = cfg.database_uri(
            app.config.get("DATABASE_URL"), app.instance_path
        )
    ratelimits.configure(app)
    if app.config["KIM_SECURE_COOKIES"]:
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)

    if app.config["KIM_PROXY_COUNT"]:
        # behind N reverse proxies: trust their X-Forwarded-* for the address, scheme and host
        hops = app.config["KIM_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    _init_extensions(app)
    app.url_map.converters["int"] = DatabaseInt
    _register_blueprints(app)

    from kim_app import compression, errors, formatting, jobs, security, uploads

    jobs.init_app(app)  # after the blueprints: their modules have declared their jobs

    transactions.init_app(app)
    errors.register(app)
    security.register(app)
    uploads.register(app)
    compression.register(app)
    formatting.register(app)
    _template_helpers(app)

    from kim_app.cli import kim_cli

    app.cli.add_command(kim_cli)
    return app


def _init_extensions(app: Flask) -> None:
    from kim_app.i18n import select_locale

    database.init_app(app)
    migrate.init_app(
        app,
        database,
        directory=str(ROOT / "migrations"),
        render_as_batch=True,
        include_object=described_by_models,
    )
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(ROOT / "kim_app" / "translations"),
    )
    limiter.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        if database.engine.dialect.name == "sqlite":
            prepare_sqlite(database.engine)


class DatabaseInt(IntegerConverter):
    """``<int:…>`` capped at the largest database integer, so a huge id is a 404, not an error."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=MAX_RECORD_ID, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _template_helpers(app: Flask) -> None:
    """``current_lang`` and ``static_url`` (a content-hashed URL, cached for a year)."""
    from flask_babel import get_locale

    # static files are linked with a content hash (static_url), so a copy is good for a year;
    # Flask's own default (None) would make the browser ask again on every page
    if app.config.get("SEND_FILE_MAX_AGE_DEFAULT") is None:
        app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 365 * 24 * 3600
    versions: dict[str, str] = {}

    def static_url(filename: str) -> str:
        if filename not in versions:
            data = (Path(app.static_folder) / filename).read_bytes()
            versions[filename] = hashlib.sha256(data).hexdigest()[:10]
        return url_for("static", filename=filename, v=versions[filename])

    def _badges() -> tuple[int, int]:
        """The navigation's counts (one statement, once per request)."""
        from flask_login import current_user

        from kim_app.notices.queries import badges

        return badges(current_user)

    def kim_unread_count() -> int:
        return _badges()[0]

    def kim_queue_count() -> int:
        """KIM waiting for verification (operators; the navigation's badge and the home page)."""
        return _badges()[1]

    @app.template_global()
    def claim_focus(wanted) -> bool:
        """True for the first field of a response that wants the focus (autofocus must be
        unique): the one asked for, or the first with an error, so a form sent back with
        errors — by htmx or as a page — puts the focus where the first fix is needed."""
        if not wanted or g.get("focus_claimed"):
            return False
        g.focus_claimed = True
        return True

    from kim_app.phones import display_phone

    app.add_template_global(display_phone)  # numbers as people read them, on every page

    @app.context_processor
    def helpers():
        return {
            "current_lang": str(get_locale() or "id"),
            "static_url": static_url,
            "kim_queue_count": kim_queue_count,
            "kim_unread_count": kim_unread_count,
        }


def _register_blueprints(app: Flask) -> None:
    from kim_app.activity import bp as activity_bp
    from kim_app.attendance import bp as attendance_bp
    from kim_app.auth import bp as auth_bp
    from kim_app.competitions import bp as competitions_bp
    from kim_app.evaluation import bp as evaluation_bp
    from kim_app.events import bp as events_bp
    from kim_app.files import bp as files_bp
    from kim_app.groups import bp as groups_bp
    from kim_app.main import bp as main_bp
    from kim_app.notices import bp as notices_bp
    from kim_app.regions import bp as regions_bp
    from kim_app.reports import bp as reports_bp
    from kim_app.reports import models as _report_models  # noqa: F401

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(regions_bp, url_prefix="/wilayah")
    app.register_blueprint(groups_bp)
    app.register_blueprint(events_bp)
    app.register_blueprint(attendance_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(evaluation_bp)
    app.register_blueprint(activity_bp)
    app.register_blueprint(competitions_bp)
    app.register_blueprint(notices_bp)
    app.register_blueprint(files_bp)
