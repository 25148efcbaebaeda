"""The audit log: who did what to which record, when, and from where (DESIGN §3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import has_request_context
from flask_login import current_user
from sqlalchemy.orm import Mapped, mapped_column

from kim_app.extensions import client_address, db
from kim_app.regions.models import RegionCode
from kim_app.timezones import utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(40))
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[str] = mapped_column(sa.String(40))
    # the region the object belongs to, so the log itself obeys the scope rule
    region_code: Mapped[str | None] = mapped_column(RegionCode, index=True)
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    address: Mapped[str | None] = mapped_column(sa.String(45))


def entry(
    action: str,
    obj_type: str,
    obj_id: Any,
    *,
    region_code: str | None = None,
    changes: dict[str, Any] | None = None,
    actor=None,
) -> dict[str, Any]:
    """The values of an audit entry: the actor is the signed-in user unless one is given, the
    address the request's client."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    return {
        "at": utcnow(),
        "actor_id": getattr(actor, "id", None),
        "action": action,
        "object_type": obj_type,
        "object_id": str(obj_id),
        "region_code": region_code,
        "changes": changes or {},
        "address": client_address() if has_request_context() else None,
    }


def record(action: str, obj_type: str, obj_id: Any, **details) -> None:
    """Write an audit entry (``entry``'s values) in the current transaction; the request commits
    it with the change. A plain INSERT (no object for the session to track): every change pays
    for one. The roll-call tap on PostgreSQL writes its entry inside its own statement instead
    (``attendance.operations.MARK_AND_STAND``)."""
    write(entry(action, obj_type, obj_id, **details))


def write(values: dict[str, Any]) -> None:
    """Insert an entry made by ``entry``."""
    db.session.execute(_INSERT, values)


_INSERT = sa.insert(AuditEntry.__table__)
