"""Upload size limits per view, applied before anything reads the request body.

The app-wide limit is ``MAX_CONTENT_LENGTH``; a view that accepts files declares its own with
``@upload_limit(bytes)``. The limit is set in a URL-value preprocessor, which Flask runs before
every ``before_request`` hook, so even the CSRF check cannot read past it. A body over the limit
gets the translated 413 page, which states this request's limit.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from pathlib import Path

from flask import Flask, current_app, request
from flask_babel import gettext as _
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


MAX_PIXELS = 40_000_000  # a 40-megapixel photo; phones save 12 to 16 unless told otherwise
KEPT_INFO = ("transparency",)  # a PNG's transparent colour is part of its picture


class ImageError(ValueError):
    """An upload that claims to be an image but cannot be decoded."""


class ImageTooLarge(ImageError):
    """An image whose header declares more pixels than ``MAX_PIXELS``; the message is for the
    person who uploaded it."""


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
    """Decode and re-encode a JPEG or PNG, keeping only its picture: turned upright by its EXIF
    orientation, then every piece of metadata dropped (EXIF with location and device, comments,
    XMP, ICC profile, PNG text chunks); a PNG keeps its transparency. The size is read from the
    header first, so an image over ``MAX_PIXELS`` is refused (``ImageTooLarge``) before it is
    decoded. With ``max_side``, downscales it so its long side is at most that. Returns
    ``(bytes, width, height)``; raises ``ImageError``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise _too_large()
                image.load()
                upright = ImageOps.exif_transpose(image)
                clean = upright.convert("RGB") if mime == "image/jpeg" else upright.copy()
    except ImageTooLarge:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large() from None  # Pillow's own limit, met at the header too
    except (UnidentifiedImageError, OSError, ValueError):
        raise ImageError("unreadable image") from None
    if max_side and max(clean.size) > max_side:
        clean.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    clean.info = {key: clean.info[key] for key in KEPT_INFO if key in clean.info}
    out = io.BytesIO()
    clean.save(
        out, format="JPEG" if mime == "image/jpeg" else "PNG", quality=quality, optimize=True
    )
    return out.getvalue(), clean.width, clean.height


def _too_large() -> ImageTooLarge:
    return ImageTooLarge(
        _(
            "Gambar lebih dari %(n)s megapiksel. Perkecil ukurannya lalu unggah ulang.",
            n=MAX_PIXELS // 1_000_000,
        )
    )


def register(app: Flask) -> None:
    app.config.setdefault("KIM_UPLOAD_FOLDER", str(Path(app.instance_path) / "uploads"))

    @app.url_value_preprocessor
    def _apply_upload_limit(endpoint, _values):
        view = app.view_functions.get(endpoint or "")
        limit = getattr(view, "max_content_length", None)
        if limit:
            request.max_content_length = limit
