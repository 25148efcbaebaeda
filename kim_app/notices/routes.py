"""An account's notices (/pesan), and the outbox of WhatsApp hand-offs (/pesan/kirim)."""

from __future__ import annotations

from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from kim_app import queryargs
from kim_app.auth.models import OPERATOR_ROLES
from kim_app.events.operations import get_event_or_404
from kim_app.extensions import db
from kim_app.htmx import is_partial, redirect_after_post, render
from kim_app.notices import bp, operations, queries
from kim_app.notices.forms import ActionForm
from kim_app.notices.models import Notice
from kim_app.phones import whatsapp_link
from kim_app.security import roles_required

PER_PAGE = 20


def _handoff(notice: Notice) -> str:
    """The wa.me link: the person's number (62…) with the prepared text."""
    return whatsapp_link(notice.phone, notice.text)


@bp.get("/pesan")
@login_required
def index():
    """The account's notices, newest first; unread ones stand out."""
    page = queryargs.paginate(queries.inbox(current_user), per_page=PER_PAGE)
    waiting = (
        queries.outbox_count(current_user) if current_user.role in queries.OUTBOX_ROLES else None
    )
    return render("notices/index.html", page=page, outbox_waiting=waiting)


@bp.get("/pesan/<int:notice_id>")
@login_required
def show(notice_id: int):
    """One notice; opening it marks it read."""
    notice = db.session.get(Notice, notice_id)
    if notice is None or notice.user_id != current_user.id:
        abort(404)
    if notice.read_at is None:
        operations.mark_read(notice)
    return render("notices/show.html", notice=notice)


def _outbox_args() -> dict:
    args = {}
    if queryargs.one_of("status", ["sudah"]):
        args["status"] = "sudah"
    event_id = queryargs.record_id("kegiatan")
    if event_id:
        args["kegiatan"] = event_id
    return args


@bp.get("/pesan/kirim")
@roles_required(*queries.OUTBOX_ROLES)
def outbox():
    """Prepared WhatsApp messages of the user's area: tap "Kirim lewat WhatsApp", send, then
    "Sudah dikirim"; the list goes on with the next."""
    args = _outbox_args()
    sent = args.get("status") == "sudah"
    page = queryargs.paginate(
        queries.outbox(current_user, sent=sent, event_id=args.get("kegiatan")), per_page=PER_PAGE
    )
    return render(
        "notices/outbox.html",
        page=page,
        args=args,
        sent=sent,
        waiting=queries.outbox_count(current_user),
        tomorrow=queries.events_tomorrow(current_user),
        form=ActionForm(),
        handoff=_handoff,
    )


@bp.post("/pesan/kirim/<int:notice_id>")
@roles_required(*queries.OUTBOX_ROLES)
def mark_sent(notice_id: int):
    """Record that this hand-off was sent (works without JavaScript: back to the list)."""
    notice = db.session.get(Notice, notice_id)
    if notice is None or not queries.may_send(current_user, notice):
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    operations.mark_sent(notice, current_user)
    if is_partial():
        return render(
            "notices/_row.html",
            n=notice,
            args=_outbox_args(),
            handoff=_handoff,
        )
    flash(_("Ditandai terkirim: %(name)s.", name=notice.name), "success")
    return redirect_after_post(url_for("notices.outbox", **_outbox_args()))


@bp.post("/pesan/pengingat/<int:event_id>")
@roles_required(*OPERATOR_ROLES)
def prepare_reminders(event_id: int):
    """Prepare the day-before reminder of an event for each registered person (once each)."""
    event = get_event_or_404(event_id, current_user, manage=True)
    if not ActionForm().validate_on_submit():
        abort(400)
    made = operations.reminders_prepared(event, current_user)
    flash(_("%(n)d pengingat disiapkan.", n=made), "success")
    return redirect_after_post(url_for("notices.outbox", kegiatan=event.id))
