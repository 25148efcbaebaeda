"""Invitations: operators invite KIM by filter (regencies, districts, field, status) with a quota
each, seeing which KIM before they invite them, and add institutions' guests by hand; a KIM's
pengurus (or its village head, or the operator) names the delegates from its members, up to the
quota.

The invitation filter works without JavaScript (a "Hitung" button re-renders the page with the
count); with htmx the count follows every change of the filter.
"""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from kim_app import queryargs
from kim_app.auth.models import OPERATOR_ROLES, Role
from kim_app.errors import attach_error
from kim_app.events import bp
from kim_app.events.forms import PersonForm
from kim_app.events.invitations.operations import (
    QUOTA_DEFAULT,
    QUOTA_MAX,
    DelegateChange,
    add_person,
    check_quota,
    invite_kims,
    name_delegates,
    remove_invitation,
    set_quota,
)
from kim_app.events.invitations.queries import (
    INVITABLE,
    PREVIEW_MAX,
    InviteFilter,
    count_matching,
    delegate_choices,
    district_choices,
    invitation_of,
    invited_page,
    invited_row,
    kim_delegates,
    matching_preview,
    regency_choices,
)
from kim_app.events.models import Event, Invitation
from kim_app.events.operations import EventError, get_event_or_404, may_manage_event
from kim_app.events.participants.routes import common, managed_event
from kim_app.extensions import db
from kim_app.groups.models import Bidang
from kim_app.groups.operations import may_see_kim
from kim_app.htmx import is_partial, redirect_after_post, render
from kim_app.security import MAX_RECORD_ID, roles_required

# --- inviting KIM ------------------------------------------------------------------------------


def _matching(event: Event, filters: InviteFilter) -> dict:
    """How many KIM the filter matches, and the first of those it would invite, by name."""
    return {
        "count": count_matching(event, filters, current_user),
        "preview": matching_preview(event, filters, current_user),
        "preview_max": PREVIEW_MAX,
    }


def _filter_context(event: Event, filters: InviteFilter) -> dict:
    return {
        "filters": filters,
        "regencies": regency_choices(event, current_user),
        "districts": district_choices(event, filters, current_user),
        "bidang_choices": list(Bidang),
        "statuses": INVITABLE,
        **_matching(event, filters),
    }


def _page(event: Event, filters: InviteFilter, status: int = 200, **extra) -> Response:
    extra.setdefault("quota", QUOTA_DEFAULT)
    extra.setdefault("person_form", PersonForm(formdata=None).for_event(event))
    return render(
        "events/invitations.html",
        status=status,
        invited=invited_page(event, queryargs.page()),
        quota_max=QUOTA_MAX,
        **_filter_context(event, filters),
        **common(event),
        **extra,
    )


@bp.route("/kegiatan/<int:event_id>/undangan", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def invitations(event_id: int):
    """Invite KIM by filter with a quota, see and adjust the invited KIM, add guests by hand.

    GET with htmx: ``bagian=jumlah`` returns the count with the KIM it would invite,
    ``bagian=saring`` the filter (a province event's districts follow the regencies chosen),
    anything else one page of invited KIM.
    POST ``aksi``: ``hitung`` (count without JavaScript), ``undang``, ``kuota``, ``hapus``, ``tambah``.
    """
    event = managed_event(event_id)
    if request.method == "GET":
        filters = InviteFilter.from_values(queryargs.values(), event, current_user)
        if is_partial():
            return _fragment(event, filters, queryargs.one_of("bagian", ["jumlah", "saring"]))
        return _page(event, filters)
    action = request.form.get("aksi", "")
    if action in ("hitung", "undang"):
        filters = InviteFilter.from_values(request.form, event, current_user)
        if action == "hitung":
            return _page(event, filters, quota=request.form.get("kuota", QUOTA_DEFAULT))
        return _invite(event, filters)
    if action in ("kuota", "hapus"):
        return _change_invitation(event, action)
    if action == "tambah":
        return _add_guest(event)
    abort(400)


def _fragment(event: Event, filters: InviteFilter, part: str | None) -> Response:
    if part == "jumlah":
        return render("events/_invitation_count.html", **_matching(event, filters))
    if part == "saring":
        return render(
            "events/_invitation_filter.html", **_filter_context(event, filters), **common(event)
        )
    invited = invited_page(event, queryargs.page())
    return render("events/_invitation_list.html", invited=invited, **common(event))


def _invite(event: Event, filters: InviteFilter) -> Response:
    raw_quota = request.form.get("kuota")
    try:
        with db.session.begin_nested():
            quota = check_quota(raw_quota)
            created = invite_kims(event, filters, quota, current_user)
    except EventError as error:
        return _page(event, filters, 422, quota=raw_quota, error=str(error))
    if created:
        flash(_("%(n)d KIM diundang, masing-masing %(q)d orang.", n=created, q=quota), "success")
    else:
        flash(_("Tidak ada KIM baru yang cocok: semuanya sudah diundang."), "info")
    return redirect_after_post(url_for("events.invitations", event_id=event.id))


def _is_record_id(text: str) -> bool:
    """A record id as sent by a form: at most 19 ASCII digits, within the database's range."""
    return text.isascii() and text.isdigit() and len(text) <= 19 and 0 < int(text) <= MAX_RECORD_ID


def _invitation_from_form(event: Event) -> Invitation:
    kim_id = request.form.get("kim", "")
    if not _is_record_id(kim_id):
        abort(400)
    invitation = invitation_of(event.id, int(kim_id))
    if invitation is None:
        abort(404)
    return invitation


def _change_invitation(event: Event, action: str) -> Response:
    """Change a KIM's quota or withdraw its invitation; htmx gets the row (or nothing) back."""
    invitation = _invitation_from_form(event)
    name = invitation.kim.name
    try:
        with db.session.begin_nested():
            if action == "kuota":
                set_quota(invitation, check_quota(request.form.get("kuota")), current_user)
                notice = _("Kuota %(kim)s: %(q)d orang.", kim=name, q=invitation.quota)
            else:
                remove_invitation(invitation, current_user)
                notice = _("Undangan untuk %(kim)s ditarik.", kim=name)
    except EventError as error:
        if is_partial():
            invitation = db.session.get(Invitation, invitation.id)
            return render(
                "events/_invitation_row.html",
                status=422,
                row=invited_row(event, invitation),
                row_error=str(error),
                **common(event),
            )
        filters = InviteFilter.from_values(request.form, event, current_user)
        return _page(event, filters, 422, error=str(error))
    if not is_partial():
        flash(notice, "success")
        return redirect_after_post(url_for("events.invitations", event_id=event.id))
    if action == "hapus":
        return render("events/_invitation_row.html", row=None, notice=notice, **common(event))
    invitation = db.session.get(Invitation, invitation.id)
    return render(
        "events/_invitation_row.html",
        row=invited_row(event, invitation),
        notice=notice,
        **common(event),
    )


def _add_guest(event: Event) -> Response:
    """Add someone from an institution by hand; a number already registered is shown instead."""
    form = PersonForm().for_event(event)
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                registration, new = add_person(event, form.to_person(), current_user)
        except EventError as error:
            attach_error(form, error)
        else:
            if new:
                notice = _(
                    "%(name)s ditambahkan sebagai peserta (%(status)s).",
                    name=registration.name,
                    status=registration.status.label.lower(),
                )
            else:
                notice = _(
                    "Nomor itu sudah terdaftar atas nama %(name)s (%(status)s); tidak ditambahkan lagi.",
                    name=registration.name,
                    status=registration.status.label.lower(),
                )
            if not is_partial():
                flash(notice, "success" if new else "info")
                return redirect_after_post(
                    url_for("events.invitations", event_id=event.id, _anchor="tamu")
                )
            return render(
                "events/_invitation_guest.html",
                person_form=PersonForm(formdata=None).for_event(event),
                notice=notice,
                found=None if new else registration,
                **common(event),
            )
    if is_partial():
        return render(
            "events/_invitation_guest.html", status=422, person_form=form, **common(event)
        )
    filters = InviteFilter.from_values(request.form, event, current_user)
    return _page(event, filters, 422, person_form=form)


# --- delegates -----------------------------------------------------------------------------------

DELEGATE_ROLES = (*OPERATOR_ROLES, Role.KEPALA_DESA, Role.PENGURUS_KIM)


def _invitation_for(event_id: int, kim_id: int) -> tuple[Event, Invitation]:
    """The invitation if the user may name its delegates: the event's managers, and those who
    see both the event and the KIM (its pengurus, its village head, operators over it).
    Anything else — another KIM, a KIM not invited — is a 404."""
    event = get_event_or_404(event_id, current_user)
    invitation = invitation_of(event.id, kim_id)
    if invitation is None:
        abort(404)
    if not (may_manage_event(current_user, event) or may_see_kim(current_user, invitation.kim)):
        abort(404)
    return event, invitation


def _delegates(event: Event, invitation: Invitation, status: int = 200, **extra) -> Response:
    kim = invitation.kim
    delegates = kim_delegates(event, kim)
    by_member = {r.member_id: r for r in delegates if r.member_id}
    chosen = extra.pop("chosen", None)
    return render(
        "events/delegates.html",
        "events/_invitation_delegates.html",
        status,
        invitation=invitation,
        kim=kim,
        members=delegate_choices(kim, delegates),
        by_member=by_member,
        chosen=set(by_member) if chosen is None else chosen,
        others=[r for r in delegates if not r.member_id],
        named=len(delegates),
        manager=may_manage_event(current_user, event),
        **common(event),
        **extra,
    )


def _summary(change: DelegateChange) -> str:
    parts = []
    if change.added:
        parts.append(_("%(n)d ditunjuk", n=len(change.added)))
    if change.removed:
        parts.append(_("%(n)d dibatalkan", n=len(change.removed)))
    if not parts:
        return _("Tidak ada perubahan.")
    message = _("Delegasi disimpan: %(parts)s.", parts=", ".join(parts))
    if change.waiting:
        message += " " + _(
            "Kursi penuh: %(names)s masuk daftar tunggu.",
            names=", ".join(r.name for r in change.waiting),
        )
    return message


@bp.route("/kegiatan/<int:event_id>/delegasi/<int:kim_id>", methods=["GET", "POST"])
@roles_required(*DELEGATE_ROLES)
def delegates(event_id: int, kim_id: int):
    """An invited KIM's delegates: its active members as checkboxes, up to the quota.

    Ticking registers the member (source undangan), un-ticking cancels their registration and
    frees the place. A choice over the quota is refused with 422 and nothing changes.
    """
    event, invitation = _invitation_for(event_id, kim_id)
    if request.method == "GET":
        return _delegates(event, invitation)
    raw = request.form.getlist("anggota")
    if not all(_is_record_id(v) for v in raw):
        abort(400)
    chosen = {int(v) for v in raw}
    try:
        with db.session.begin_nested():
            change = name_delegates(event, invitation, chosen, current_user)
    except EventError as error:
        invitation = invitation_of(event.id, kim_id)
        return _delegates(event, invitation, 422, error=str(error), chosen=chosen)
    notice = _summary(change)
    if not is_partial():
        flash(notice, "success")
        return redirect_after_post(
            url_for("events.delegates", event_id=event.id, kim_id=invitation.kim_id)
        )
    invitation = invitation_of(event.id, kim_id)
    return _delegates(event, invitation, notice=notice)
