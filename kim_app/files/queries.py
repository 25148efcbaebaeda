"""Reads of prepared files: only their owner ever sees one."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort

from kim_app.extensions import db
from kim_app.files.models import PreparedFile

LISTED = 50


def own_file_or_404(token: str, user) -> PreparedFile:
    """The file behind ``token`` when ``user`` asked for it; 404 otherwise (another account's
    file is as unknown as a made-up token)."""
    if len(token) > 32:
        abort(404)
    file = db.session.scalar(sa.select(PreparedFile).where(PreparedFile.token == token))
    if file is None or file.user_id != user.id:
        abort(404)
    return file


def own_files(user) -> list[PreparedFile]:
    """The account's files of the last day, newest first (at most ``LISTED``)."""
    return list(
        db.session.scalars(
            sa.select(PreparedFile)
            .where(PreparedFile.user_id == user.id)
            .order_by(PreparedFile.created_at.desc(), PreparedFile.id.desc())
            .limit(LISTED)
        )
    )
