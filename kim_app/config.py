"""Configuration: defaults here, then ``instance/config.py``, then the environment.

Every setting a deployment may change is listed in ``ENV_SETTINGS`` and in the README table.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import ClassVar

HTMX_URL = "https://cdn.jsdelivr.net/npm/htmx.org@4.0.1/dist/htmx.min.js"
HTMX_SRI = "sha384-Qp9rdC8H7EqOoX+nR0P3RPG2Noji+qdwJlGpfzwQJsfOpp3sGwIdSP9xO3+UlEhn"
# the QR decoder the scan page loads where the browser has no BarcodeDetector (same CDN as htmx,
# so the script-src of the CSP already admits it); the hash is of node_modules/jsqr/dist/jsQR.js
JSQR_URL = "https://cdn.jsdelivr.net/npm/jsqr@1.4.0/dist/jsQR.js"
JSQR_SRI = "sha384-b5Ya4Bq3qCyz39m2ISh+4DxjAIljdeFwK/BsXLuj9gugaNwAcj/ia15fxNZL9Nlx"


class Defaults:
    """Settings used when neither ``instance/config.py`` nor the environment says otherwise."""

    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {"pool_pre_ping": True}
    KIM_HTMX_URL = HTMX_URL
    KIM_HTMX_SRI = HTMX_SRI
    KIM_JSQR_URL = JSQR_URL
    KIM_JSQR_SRI = JSQR_SRI
    # unset: the counts live in the app's database, shared by every worker (kim_app.ratelimits);
    # should that database fail, each worker counts in memory until it answers again
    RATELIMIT_STORAGE_URI = ""
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # no X-RateLimit-* headers on every answer: a refusal (429) says when to come back itself,
    # and the limiter's Retry-After would overwrite a 503's during a database outage
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_LOGIN_ADDRESS = "20 per 10 minutes"
    RATELIMIT_LOGIN_ACCOUNT = "5 per 10 minutes"
    KIM_RATELIMIT_REGISTER = "30 per hour"
    KIM_RATELIMIT_CHECKIN = "20 per minute"
    KIM_RATELIMIT_PIN = "10 per 10 minutes"
    KIM_RATELIMIT_VERIFY = "60 per minute"
    KIM_RATELIMIT_LOST_TICKET = "10 per hour"
    # wrong names given with one number at one event, from any address (events/public.py)
    KIM_RATELIMIT_NAME_GUESSES = "5 per day"
    KIM_PROXY_COUNT = 0
    # prepared files (kim_app/files): a run whose heartbeat stopped this long ago is taken for
    # dead and queued again; documents up to each one's own size are made at once, unless this
    # lowers it (0: every document through the worker)
    KIM_FILES_STALE_SECONDS = 120
    KIM_FILES_AT_ONCE_MAX = 100_000
    MAX_CONTENT_LENGTH = 4 * 1024 * 1024
    KIM_SECURE_COOKIES = False
    KIM_COMPRESS = True
    # Flask-Compress (kim_app/compression.py): brotli when the browser takes it, else gzip, for
    # these text types; static files (streamed by Flask) too, keeping their ETag conditional.
    COMPRESS_MIMETYPES = (
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "image/svg+xml",
        "text/csv",
        "text/calendar",
        "text/plain",
        "application/json",
    )
    COMPRESS_ALGORITHM = ("br", "gzip")
    COMPRESS_ALGORITHM_STREAMING = ("br", "gzip")
    # brotli 6: under a millisecond for a page or a stylesheet, 5-10 % smaller than gzip 6 (the
    # library's 4 is no smaller than gzip on CSS and JS)
    COMPRESS_BR_LEVEL = 6
    # below this a compression header costs more than it saves
    COMPRESS_MIN_SIZE = 512
    BABEL_DEFAULT_LOCALE = "id"
    BABEL_DEFAULT_TIMEZONE = "Asia/Jakarta"
    KIM_LANGUAGES = ("id", "en")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 14 * 24 * 3600
    # a sign-in lasts 14 days from when it was made (not from the last click): answers carry
    # no fresh session cookie each time, which a tap's answer on 3G would pay for
    SESSION_REFRESH_EACH_REQUEST = False
    WTF_CSRF_TIME_LIMIT = None
    # the job queue: unset = a SQLite file in instance/; redis://host:6379/0 in production
    KIM_QUEUE_URL = ""
    # email goes out only when an SMTP host is set (always from the worker, never a request)
    KIM_SMTP_HOST = ""
    KIM_SMTP_PORT = 25
    KIM_SMTP_USER = ""
    KIM_SMTP_PASSWORD = ""
    KIM_SMTP_SENDER = ""
    KIM_SMTP_STARTTLS = False


# name -> converter; read from the environment when set.
ENV_SETTINGS = {
    "SECRET_KEY": str,
    "DATABASE_URL": str,
    "KIM_HTMX_URL": str,
    "KIM_HTMX_SRI": str,
    "KIM_JSQR_URL": str,
    "KIM_JSQR_SRI": str,
    "RATELIMIT_STORAGE_URI": str,
    "MAX_CONTENT_LENGTH": int,
    "KIM_SECURE_COOKIES": lambda v: v.strip().lower() in {"1", "true", "yes", "on"},
    "KIM_COMPRESS": lambda v: v.strip().lower() in {"1", "true", "yes", "on"},
    "BABEL_DEFAULT_LOCALE": str,
    "KIM_UPLOAD_FOLDER": str,
    "KIM_FILES_STALE_SECONDS": int,
    "KIM_FILES_AT_ONCE_MAX": int,
    "RATELIMIT_LOGIN_ADDRESS": str,
    "RATELIMIT_LOGIN_ACCOUNT": str,
    "KIM_RATELIMIT_REGISTER": str,
    "KIM_RATELIMIT_CHECKIN": str,
    "KIM_RATELIMIT_PIN": str,
    "KIM_RATELIMIT_VERIFY": str,
    "KIM_RATELIMIT_LOST_TICKET": str,
    "KIM_RATELIMIT_NAME_GUESSES": str,
    "KIM_PROXY_COUNT": int,
    "KIM_QUEUE_URL": str,
    "KIM_SMTP_HOST": str,
    "KIM_SMTP_PORT": int,
    "KIM_SMTP_USER": str,
    "KIM_SMTP_PASSWORD": str,
    "KIM_SMTP_SENDER": str,
    "KIM_SMTP_STARTTLS": lambda v: v.strip().lower() in {"1", "true", "yes", "on"},
}


def from_environment() -> dict:
    """Settings present in the environment, converted to their types."""
    return {
        name: conv(os.environ[name]) for name, conv in ENV_SETTINGS.items() if name in os.environ
    }


def database_uri(url: str | None, instance_path: str) -> str:
    """The SQLAlchemy URI: ``DATABASE_URL`` with psycopg 3 for PostgreSQL, else SQLite in instance/."""
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "kim.sqlite3")
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret_key(instance_path: str) -> str:
    """Read the secret key kept in instance/, creating it on first run."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
