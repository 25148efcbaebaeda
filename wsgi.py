"""Entry point for gunicorn (``wsgi:app``) and ``flask --app wsgi``."""

from kim_app import create_app

app = create_app()
