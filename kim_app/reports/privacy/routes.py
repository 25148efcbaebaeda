"""The personal-data pages: a person's data as a file, erasing a person, the audit log; and no
personal data in the development server's request log."""

from __future__ import annotations

import json
import logging
import re
from datetime import date

import sqlalchemy as sa
from flask import Response, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kim_app import audit
from kim_app.auth.models import OPERATOR_ROLES
from kim_app.extensions import db
from kim_app.htmx import redirect_after_post, render
from kim_app.phones import display_phone
from kim_app.reports import bp
from kim_app.reports.forms import EraseForm
from kim_app.reports.history import registration_in_scope_or_404
from kim_app.reports.privacy.operations import CONFIRM_WORD, confirmation_expected, erase_person
from kim_app.reports.privacy.queries import (
    ACTION_LABELS,
    OBJECT_LABELS,
    log_filters,
    log_page,
    person_data,
    person_registrations,
    role_label,
    summarise,
)
from kim_app.security import roles_required, scope_of
from kim_app.timezones import WIB

# --- views -------------------------------------------------------------------------------------


@bp.get("/laporan/orang/<int:registration_id>/data.json")
@roles_required(*OPERATOR_ROLES)
def person_data_export(registration_id: int):
    """Everything held about the person in the operator's scope, as one JSON file: private,
    never cached, audited with counts only."""
    registration = registration_in_scope_or_404(registration_id, current_user)
    data = person_data(registration, current_user)
    audit.record(
        "person.export",
        "registration",
        registration.id,
        region_code=scope_of(current_user) or None,
        changes={
            "format": "json",
            "rows": len(data["pendaftaran"]),
            "members": len(data["anggota_kim"]),
        },
    )
    response = Response(json.dumps(data, ensure_ascii=False, indent=1), mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="data-orang-{registration.id}-{date.today().isoformat()}.json"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/laporan/orang/<int:registration_id>/hapus", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def person_erase(registration_id: int):
    """Erase the person in the operator's scope after a typed confirmation (the number's last
    four digits, or HAPUS); one transaction."""
    registration = registration_in_scope_or_404(registration_id, current_user)
    form = EraseForm()
    expected = confirmation_expected(registration)
    rows = db.session.scalar(
        sa.select(sa.func.count()).select_from(
            person_registrations(registration, current_user).subquery()
        )
    )
    form.konfirmasi.description = (
        _("Ketik 4 angka terakhir nomor WhatsApp orang ini, atau kata HAPUS.")
        if registration.phone
        else _("Ketik kata HAPUS.")
    )
    status = 200
    if form.validate_on_submit():
        typed = (form.konfirmasi.data or "").strip().upper()
        if typed in (expected, CONFIRM_WORD):
            result = erase_person(registration, current_user)
            flash(
                _(
                    "Data orang ini dihapus dari %(n)d pendaftaran. Jumlah kehadiran tetap.",
                    n=result.registrations,
                ),
                "success",
            )
            return redirect_after_post(url_for("reports.people"))
        form.konfirmasi.errors.append(_("Konfirmasi tidak cocok."))
        status = 422
    elif form.is_submitted():
        status = 422
    return render(
        "reports/person_erase.html",
        "reports/_person_erase_form.html",
        status=status,
        person=registration,
        phone=display_phone(registration.phone),
        rows=rows,
        form=form,
    )


@bp.get("/log-audit")
@roles_required(*OPERATOR_ROLES)
def audit_log():
    """The audit log of the operator's wilayah (everything for the admin), newest first, 50 a
    page, filtered by action, actor and dates."""
    filters = log_filters()
    rows, next_id = log_page(current_user, filters)
    return render(
        "reports/audit_log.html",
        "reports/_audit_log_rows.html",
        rows=rows,
        next_id=next_id,
        filters=filters,
        actions=ACTION_LABELS,
        objects=OBJECT_LABELS,
        roles=role_label,
        summarise=summarise,
        zone=WIB,
    )


# --- no personal data in the development server's request log -----------------------------------


class _NoQueryString(logging.Filter):
    """The development server logs each request line; a search (``?q=0812…``) would put a number
    in it. Query strings are cut from those lines (gunicorn's format already leaves them out)."""

    QUERY = re.compile(r'(/[^\s?"]*)\?[^\s"]*')

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                self.QUERY.sub(r"\1", a) if isinstance(a, str) else a for a in record.args
            )
        record.msg = self.QUERY.sub(r"\1", str(record.msg))
        return True


@bp.record_once
def _quiet_request_log(_state) -> None:
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, _NoQueryString) for f in werkzeug.filters):
        werkzeug.addFilter(_NoQueryString())
