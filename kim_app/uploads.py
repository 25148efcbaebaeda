"""Upload size limits per view, applied before anything reads the request body.

The app-wide limit is ``MAX_CONTENT_LENGTH``; a view that accepts files declares its own with
``@upload_limit(bytes)``. The limit is set in a URL-value preprocessor, which Flask runs before
every ``before_request`` hook, so even the CSRF check cannot read past it. A body over the limit
gets the translated 413 page, which states this request's limit.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from flask import Flask, current_app, request
from PIL import Image, ImageOps, UnidentifiedImageError


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


class ImageError(ValueError):
    """An upload that claims to be an image but cannot be decoded."""


def sniff_type(head: bytes) -> str | None:
    """The file type from its first bytes (PDF, PNG, JPEG); names and browser-sent types are
    not trusted."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return None


def reencode_image(
    data: bytes, mime: str, max_side: int | None = None, *, quality: int = 85
) -> tuple[bytes, int, int]:
    """Decode and re-encode a JPEG or PNG: drops EXIF (location, device) and anything hidden in
    the file; with ``max_side``, turns it upright by its EXIF orientation and downscales it so
    its long side is at most that. Returns ``(bytes, width, height)``; raises ``ImageError``."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if max_side:
                image = ImageOps.exif_transpose(image)
            clean = image.convert("RGB") if mime == "image/jpeg" else image.copy()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ImageError("unreadable image") from None
    if max_side and max(clean.size) > max_side:
        clean.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    clean.save(
        out, format="JPEG" if mime == "image/jpeg" else "PNG", quality=quality, optimize=True
    )
    return out.getvalue(), clean.width, clean.height


def register(app: Flask) -> None:
    app.config.setdefault("KIM_UPLOAD_FOLDER", str(Path(app.instance_path) / "uploads"))

    @app.url_value_preprocessor
    def _apply_upload_limit(endpoint, _values):
        view = app.view_functions.get(endpoint or "")
        limit = getattr(view, "max_content_length", None)
        if limit:
            request.max_content_length = limit
