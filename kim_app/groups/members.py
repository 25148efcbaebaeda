"""Members and pengurus of one KIM: list, add, edit, deactivate inline.

Every action is a plain form that works without JavaScript (POST → 303 back to the list). With
htmx the same forms swap one row: edit turns the row into its form and saving turns it back, a
status toggle swaps the row, and adding appends the new row and resets the add form. The active
member counter travels along out of band (``<hx-partial>``).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kim_app import queryargs
from kim_app.auth.models import OPERATOR_ROLES, Role, User
from kim_app.errors import attach_error
from kim_app.extensions import db
from kim_app.groups import bp
from kim_app.groups.forms import MemberForm
from kim_app.groups.models import Kim, Member, Position
from kim_app.groups.operations import (
    KimError,
    active_member_count,
    add_member,
    get_kim_or_404,
    may_keep_members,
    set_member_active,
    update_member,
)
from kim_app.htmx import is_partial, redirect_after_post, render
from kim_app.phones import display_phone
from kim_app.security import MAX_RECORD_ID, roles_required

# petugas absensi work at one event and have no business with a KIM's member list
VIEWERS = (*OPERATOR_ROLES, Role.KEPALA_DESA, Role.PENGURUS_KIM)
MIN_ACTIVE = 3
POSITION_ORDER = sa.case({p: i for i, p in enumerate(Position)}, value=Member.position)


def _kim_for_writing(kim_id: int) -> Kim:
    kim = get_kim_or_404(kim_id, current_user)
    if not may_keep_members(current_user, kim):
        abort(403)
    return kim


def _member_of(kim: Kim, member_id: int) -> Member:
    """The member, if it belongs to this KIM (another KIM's member under this URL is a 404)."""
    member = db.session.get(Member, member_id) if 0 < member_id <= MAX_RECORD_ID else None
    if member is None or member.kim_id != kim.id:
        abort(404)
    return member


def _edit_form(member: Member, formdata=None) -> MemberForm:
    """The edit form of ``member``: its stored values, or what was just submitted."""
    form = MemberForm(formdata=formdata)
    if formdata is None:
        form.fill_from(member)
    form.number_ids(str(member.id))
    return form


def _context(kim: Kim, **extra) -> dict:
    """What the page and its fragments need besides the members themselves; for operators, the
    KIM's pengurus accounts by number (a member with one shows it instead of "Buat akun")."""
    accounts = {}
    if current_user.is_operator:
        accounts = dict(
            db.session.execute(
                sa.select(User.phone, User.id).where(
                    User.kim_id == kim.id, User.role == Role.PENGURUS_KIM, User.phone.is_not(None)
                )
            ).all()
        )
    return {
        "kim": kim,
        "may_keep": may_keep_members(current_user, kim),
        "phone": display_phone,
        "min_active": MIN_ACTIVE,
        "accounts": accounts,
        **extra,
    }


def _page(kim: Kim, status: int = 200, fragment: str | None = None, **extra):
    """The members page (active first, by position, then name); ``fragment`` for htmx."""
    members = db.session.scalars(
        sa.select(Member)
        .where(Member.kim_id == kim.id)
        .order_by(Member.active.desc(), POSITION_ORDER, Member.name, Member.id)
    ).all()
    extra.setdefault("add_form", MemberForm(formdata=None))
    extra.setdefault("editing", None)
    return render(
        "groups/members.html",
        fragment,
        status,
        members=members,
        active_count=sum(m.active for m in members),
        **_context(kim, **extra),
    )


@bp.get("/kim/<int:kim_id>/anggota")
@roles_required(*VIEWERS)
def members(kim_id: int):
    """The KIM's members; ``?ubah=<id>`` opens that row as a form (the edit link without JS).

    An htmx request with ``?baris=<id>`` gets that one row back (cancelling an inline edit).
    """
    kim = get_kim_or_404(kim_id, current_user)
    row = queryargs.record_id("baris")
    if row is not None and is_partial():
        member = _member_of(kim, row)
        return render("groups/_member_row.html", member=member, refocus=True, **_context(kim))
    editing = queryargs.record_id("ubah")
    if editing is not None and may_keep_members(current_user, kim):
        member = _member_of(kim, editing)
        return _page(kim, editing=member.id, edit_form=_edit_form(member))
    return _page(kim)


def _back_to_row(kim: Kim, member: Member, notice: str):
    """Without htmx: the members page again, scrolled to the row that changed."""
    flash(notice, "success")
    return redirect_after_post(
        url_for("groups.members", kim_id=kim.id, _anchor=f"anggota-{member.id}")
    )


@bp.post("/kim/<int:kim_id>/anggota")
@roles_required(*VIEWERS)
def member_add(kim_id: int):
    """Add a member; htmx gets a fresh add form, the new row and the new count."""
    kim = _kim_for_writing(kim_id)
    form = MemberForm()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                member = add_member(kim, form.to_data(), current_user)
        except KimError as error:
            attach_error(form, error)
        else:
            notice = _("%(name)s ditambahkan.", name=member.name)
            if not is_partial():
                return _back_to_row(kim, member, notice)
            return render(
                "groups/_member_form.html",
                form=MemberForm(formdata=None),
                member=None,
                added=member,
                count_oob=active_member_count(kim),
                notice=notice,
                **_context(kim),
            )
    if is_partial():
        return render(
            "groups/_member_form.html", status=422, form=form, member=None, **_context(kim)
        )
    return _page(kim, 422, add_form=form)


@bp.route("/kim/<int:kim_id>/anggota/<int:member_id>/ubah", methods=["GET", "POST"])
@roles_required(*VIEWERS)
def member_edit(kim_id: int, member_id: int):
    """GET: the row as a form (the whole page in edit mode without htmx). POST: save it."""
    kim = _kim_for_writing(kim_id)
    member = _member_of(kim, member_id)
    if request.method == "GET":
        form = _edit_form(member)
        return _page(
            kim,
            fragment="groups/_member_form.html",
            editing=member.id,
            edit_form=form,
            form=form,
            member=member,
        )
    form = _edit_form(member, request.form)
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                update_member(member, form.to_data(), current_user)
        except KimError as error:
            attach_error(form, error)
        else:
            notice = _("Data %(name)s disimpan.", name=member.name)
            if not is_partial():
                return _back_to_row(kim, member, notice)
            return render(
                "groups/_member_row.html",
                member=member,
                notice=notice,
                refocus=True,
                **_context(kim),
            )
    if is_partial():
        return render(
            "groups/_member_form.html", status=422, form=form, member=member, **_context(kim)
        )
    return _page(kim, 422, editing=member.id, edit_form=form)


@bp.post("/kim/<int:kim_id>/anggota/<int:member_id>/status")
@roles_required(*VIEWERS)
def member_status(kim_id: int, member_id: int):
    """Deactivate (``active=0``) or reactivate (``active=1``) a member; htmx gets the row."""
    kim = _kim_for_writing(kim_id)
    member = _member_of(kim, member_id)
    want = request.form.get("active")
    if want not in ("0", "1"):
        abort(400)
    set_member_active(member, want == "1", current_user)
    notice = (
        _("%(name)s aktif kembali.", name=member.name)
        if member.active
        else _("%(name)s dinonaktifkan.", name=member.name)
    )
    if not is_partial():
        return _back_to_row(kim, member, notice)
    return render(
        "groups/_member_row.html",
        member=member,
        count_oob=active_member_count(kim),
        notice=notice,
        **_context(kim),
    )
