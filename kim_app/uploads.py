"""Upload size limits per view, applied before anything reads the request body.

The app-wide limit is ``MAX_CONTENT_LENGTH``; a view that accepts files declares its own with
``@upload_limit(bytes)``. The limit is set in a URL-value preprocessor, which Flask runs before
every ``before_request`` hook, so even the CSRF check cannot read past it. A body over the limit
gets the translated 413 page, which states this request's limit.
"""

from __future__ import annotations

import io
import re
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pypdf
from flask import Flask, current_app, request
from flask_babel import gettext as _
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject


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
        with warnings.catch_warnings(), _whole_images_only():
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


_DECODING = threading.Lock()


@contextmanager
def _whole_images_only() -> Iterator[None]:
    """Decode with Pillow refusing a truncated or damaged image. WeasyPrint, once imported (the
    first PDF a worker draws), sets Pillow's process-wide ``LOAD_TRUNCATED_IMAGES``, which would
    let an upload of garbage through as a grey picture; it is off while an upload is decoded."""
    with _DECODING:
        before = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = before


def _too_large() -> ImageTooLarge:
    return ImageTooLarge(
        _(
            "Gambar lebih dari %(n)s megapiksel. Perkecil ukurannya lalu unggah ulang.",
            n=MAX_PIXELS // 1_000_000,
        )
    )


# Names of PDF features that run or open something by themselves: scripts, actions on opening,
# on page or field events, launching programs, embedded files, forms that submit, rich media.
ACTIVE_PDF_NAMES = frozenset(
    [
        "/JavaScript",
        "/JS",
        "/OpenAction",
        "/AA",
        "/Launch",
        "/EmbeddedFile",
        "/EmbeddedFiles",
        "/FileAttachment",
        "/RichMedia",
        "/XFA",
        "/SubmitForm",
        "/ImportData",
        "/GoToE",
        "/GoToR",
    ]
)
PDF_STREAM_DATA = re.compile(rb"\bstream\r?\n.*?\bendstream\b", re.DOTALL)
PDF_NAME = re.compile(rb"/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*")
PDF_HEX = re.compile(rb"#([0-9A-Fa-f]{2})")
PDF_MAX_OBJECTS = 100_000
PDF_STREAM_LIMITS = {  # what pypdf may unpack while it looks, per stream (the file is 2 MB at most)
    "zlib_maximum_output_length": 4 * 1024 * 1024,
    "lzw_maximum_output_length": 4 * 1024 * 1024,
    "run_length_maximum_output_length": 4 * 1024 * 1024,
    "brotli_maximum_output_length": 4 * 1024 * 1024,
    "array_based_stream_maximum_output_length": 4 * 1024 * 1024,
    "stream_decoding_work_maximum_length": 16 * 1024 * 1024,
}


class PdfRefused(ValueError):
    """A PDF this app will not keep; the message says why, for the person who uploaded it."""


def check_pdf(data: bytes) -> None:
    """Refuse a PDF that carries a script, an action run on opening or on an event, a program
    launch, an embedded file or a submitting form (``ACTIVE_PDF_NAMES``).

    The file is looked at twice: as text, every name outside stream data with its ``#xx``
    escapes decoded; and through pypdf (within ``PDF_STREAM_LIMITS``), every object reachable
    from the trailer, those in compressed object streams included. A file pypdf cannot read is
    refused when it has object streams, which the text cannot show."""
    names = {
        PDF_HEX.sub(lambda m: bytes.fromhex(m[1].decode()), name).decode("latin-1")
        for name in PDF_NAME.findall(PDF_STREAM_DATA.sub(b" ", data))
    }
    if names & ACTIVE_PDF_NAMES:
        raise _active_pdf()
    try:
        with warnings.catch_warnings(), pypdf.apply_configuration(**PDF_STREAM_LIMITS):
            warnings.simplefilter("ignore")
            active = _pdf_objects_active(pypdf.PdfReader(io.BytesIO(data)))
    except PdfRefused:
        raise
    except Exception:  # pypdf fails in many ways on a damaged or hostile file
        if "/ObjStm" in names:
            raise _unreadable_pdf() from None
        return
    if active:
        raise _active_pdf()


def _pdf_objects_active(reader: pypdf.PdfReader) -> bool:
    """Whether any object reachable from the trailer uses an active name, as a key or a value."""
    if reader.is_encrypted and not reader.decrypt(""):
        raise _unreadable_pdf()
    stack: list = [reader.trailer]
    seen: set[tuple[int, int]] = set()
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            item = item.get_object()
        visited += 1
        if visited > PDF_MAX_OBJECTS:
            raise _unreadable_pdf()
        if isinstance(item, DictionaryObject):
            for key, value in dict.items(item):
                if key in ACTIVE_PDF_NAMES or (
                    isinstance(value, NameObject) and value in ACTIVE_PDF_NAMES
                ):
                    return True
                stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(list.__iter__(item))
    return False


def _active_pdf() -> PdfRefused:
    return PdfRefused(
        _(
            "PDF ini berisi skrip, tindakan otomatis atau berkas sisipan dan tidak diterima. "
            "Cetak ulang sebagai PDF (Cetak → Simpan sebagai PDF) atau unggah hasil pindaian "
            "JPEG/PNG."
        )
    )


def _unreadable_pdf() -> PdfRefused:
    return PdfRefused(
        _(
            "PDF ini tidak dapat diperiksa. Cetak ulang sebagai PDF (Cetak → Simpan sebagai PDF) "
            "atau unggah hasil pindaian JPEG/PNG."
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
