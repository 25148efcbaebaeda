"""Upload size limits per view, applied before anything reads the request body.

The app-wide limit is ``MAX_CONTENT_LENGTH``; a view that accepts files declares its own with
``@upload_limit(bytes)``. The limit is set in a URL-value preprocessor, which Flask runs before
every ``before_request`` hook, so even the CSRF check cannot read past it. A body over the limit
gets the translated 413 page, which states this request's limit.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask, current_app, request


def upload_limit(max_bytes: int) -> Callable:
    """Decorator: this view accepts request bodies up to ``max_bytes``."""

    def decorator(view):
        view.max_content_length = max_bytes
        return view

    return decorator


def upload_folder(kind: str) -> Path:
    """``<KIM_UPLOAD_FOLDER>/<kind>``, created on first use."""
    folder = Path(current_app.config["KIM_UPLOAD_FOLDER"]) / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def register(app: Flask) -> None:
    app.config.setdefault("KIM_UPLOAD_FOLDER", str(Path(app.instance_path) / "uploads"))

    @app.url_value_preprocessor
    def _apply_upload_limit(endpoint, _values):
        view = app.view_functions.get(endpoint or "")
        limit = getattr(view, "max_content_length", None)
        if limit:
            request.max_content_length = limit
