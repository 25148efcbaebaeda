"""Uploaded files waiting for their import: kept as JSON under a random token for their
uploader until confirmed, cancelled or 24 hours old.

Confirming first *claims* the upload (renames it), so two submits of the same preview — a
double click, two tabs — import it once: the second finds it gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kim_app.importing.importer import Importer
from kim_app.importing.mapping import guess_mapping
from kim_app.importing.values import clean
from kim_app.tables import Table
from kim_app.uploads import upload_folder

IMPORT_TTL = timedelta(hours=24)
TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


@dataclass
class Upload:
    """An uploaded, parsed file waiting for its mapping to be confirmed."""

    token: str
    kind: str  # the ``kind`` of the importer it was uploaded for
    filename: str
    table: Table
    mapping: dict[str, int]
    path: Path


def _folder() -> Path:
    return upload_folder("impor")


def _remove_expired(folder: Path) -> None:
    limit = time.time() - IMPORT_TTL.total_seconds()
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except OSError:
            continue


def save_upload(importer: Importer, table: Table, filename: str, user) -> str:
    """Keep a parsed file for its uploader under a new random token; old uploads are removed."""
    folder = _folder()
    _remove_expired(folder)
    token = secrets.token_urlsafe(16)
    payload = {
        "kind": importer.kind,
        "user": user.id,
        "filename": clean(Path((filename or "").replace("\\", "/")).name)[:100],
        "created": datetime.now(UTC).isoformat(),
        "headers": table.headers,
        "rows": table.rows,
        "lines": table.lines,
        "mapping": guess_mapping(importer, table.headers),
    }
    _write(folder / f"{token}.json", payload)
    return token


def _write(path: Path, payload: dict) -> None:
    """Write atomically, readable by this process's user only (it holds names and numbers)."""
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, ensure_ascii=False)
    temporary.replace(path)


def load_upload(token: str, user, *, claimed: bool = False) -> Upload | None:
    """The upload behind ``token`` if it exists, has not expired and belongs to ``user``;
    ``claimed``: the one a confirmation has taken (the worker's import reads it so)."""
    if not TOKEN.fullmatch(token or ""):
        return None
    path = _folder() / f"{token}.json"
    source = path.with_suffix(".work") if claimed else path
    try:
        if source.stat().st_mtime < time.time() - IMPORT_TTL.total_seconds():
            source.unlink(missing_ok=True)
            return None
        payload = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if payload.get("user") != user.id:
        return None
    table = Table(headers=payload["headers"], rows=payload["rows"], lines=payload["lines"])
    return Upload(
        token=token,
        kind=payload["kind"],
        filename=payload["filename"],
        table=table,
        mapping={k: int(v) for k, v in payload["mapping"].items()},
        path=path,
    )


def save_mapping(upload: Upload, mapping: dict[str, int]) -> bool:
    """Remember the chosen mapping so the error pages and a later visit show the same columns.

    False when the upload went away meanwhile (confirmed or cancelled by another request).
    """
    try:
        payload = json.loads(upload.path.read_text(encoding="utf-8"))
        payload["mapping"] = mapping
        _write(upload.path, payload)
    except (OSError, ValueError):
        return False
    upload.mapping = mapping
    return True


def claim(upload: Upload) -> bool:
    """Take the upload for confirming; False when another request already took it."""
    try:
        upload.path.rename(upload.path.with_suffix(".work"))
    except FileNotFoundError:
        return False
    return True


def release(upload: Upload) -> None:
    """Give a claimed upload back (the import did not happen)."""
    with contextlib.suppress(FileNotFoundError):
        upload.path.with_suffix(".work").replace(upload.path)


def discard(upload: Upload) -> None:
    """Delete an upload, claimed or not."""
    upload.path.unlink(missing_ok=True)
    upload.path.with_suffix(".work").unlink(missing_ok=True)
