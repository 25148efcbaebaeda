"""Sign-in, sign-out, password change and user administration."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import abort, current_app, flash, make_response, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_url, login_user, logout_user
from sqlalchemy.orm import lazyload

from kim_app import queryargs
from kim_app.auth import bp
from kim_app.auth.forms import (
    AcceptForm,
    ForgotForm,
    LoginForm,
    OnboardForm,
    PasswordForm,
    UserForm,
)
from kim_app.auth.models import OPERATOR_ROLES, LinkPurpose, Role, User
from kim_app.auth.operations import (
    AccountError,
    accept_link,
    authenticate,
    change_password,
    create_user,
    find_link,
    issue_link,
    link_handoff,
    link_url,
    onboard_village_heads,
    pending_link,
    request_reset,
    set_user_active,
    sign_in_key,
    update_user,
)
from kim_app.auth.queries import (
    MAX_ONBOARD,
    kims_of_village,
    pending_links_statement,
    villages_without_head,
)
from kim_app.db import contains_text
from kim_app.errors import attach_error
from kim_app.extensions import db, limiter, login_manager
from kim_app.groups.models import Member
from kim_app.groups.operations import get_kim_or_404
from kim_app.htmx import redirect_after_post, render
from kim_app.mail import email_configured
from kim_app.phones import display_phone
from kim_app.ratelimits import give_back_request
from kim_app.regions.models import Region, RegionLevel
from kim_app.regions.picker import RegionPicker
from kim_app.security import ensure_in_scope, is_safe_next, roles_required, scope_filter

login_manager.login_view = "auth.login"
login_manager.login_message = None
login_manager.session_protection = "basic"


@login_manager.unauthorized_handler
def unauthorized():
    """Not signed in: to the sign-in page, then back. An htmx request (a sign-in that ended
    while the page stayed open) sends the whole page there instead of swapping the sign-in
    form into a part of it."""
    if request.headers.get("HX-Request"):
        came_from = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = came_from.path + (f"?{came_from.query}" if came_from.query else "")
        response = make_response("", 401)
        response.headers["HX-Redirect"] = login_url(
            "auth.login", next_url=back if is_safe_next(back) else None
        )
        return response
    return redirect(login_url("auth.login", next_url=request.url))


# the signed-in user, once per request: built once (SQLAlchemy would rebuild and rekey a
# ``session.get`` with options every time), without the joined scope region, which few pages
# show (the scope rule needs only the code)
USER_BY_ID = sa.select(User).where(User.id == sa.bindparam("user_id")).options(lazyload(User.scope))


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Sessions carry ``id:version``; a password change or deactivation ends older sessions."""
    ident, _sep, version = user_id.partition(":")
    if not ident.isdigit() or not version.isdigit():
        return None
    user = db.session.execute(USER_BY_ID, {"user_id": int(ident)}).scalar_one_or_none()
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def _login_account_key() -> str:
    return "login:" + sign_in_key(request.form.get("email", ""))[:254]


def _link_limit() -> str:
    """Opening links and asking for resets, per address: nobody tries tokens or floods mail."""
    return current_app.config["RATELIMIT_LOGIN_ADDRESS"]


def _address_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_ADDRESS"]


def _account_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_ACCOUNT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"])
@limiter.limit(_account_limit, methods=["POST"], key_func=_login_account_key)
def login():
    """Sign in with email and password; ``next`` is followed only to a local path.

    Every post counts against the limits before the password is checked, and a sign-in that
    succeeds gives its attempt back: only failures count, and parallel guesses cannot all slip
    in under the last one allowed."""
    form = LoginForm(next=queryargs.text("next", 1000))
    if current_user.is_authenticated and request.method == "GET":
        return redirect_after_post(url_for("main.home"))
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session on sign-in: no fixation
            if lang:
                session["lang"] = lang
            session.permanent = True
            login_user(user)
            give_back_request()
            target = form.next.data
            return redirect_after_post(target if is_safe_next(target) else url_for("main.home"))
        form.password.errors.append(_("Email/nomor WhatsApp atau kata sandi salah."))
    status = 422 if request.method == "POST" else 200
    return render("auth/login.html", form=form, status=status)


@bp.post("/logout")
def logout():
    """Sign out (POST only, with the CSRF token) and forget the session. The session cookie is
    signed, not stored: a copy of it (taken from a shared phone, say) would stay good for its
    14 days, so signing out retires the account's session version — every copy, on every
    device, is signed out."""
    if current_user.is_authenticated:
        current_user.session_version += 1
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("Anda sudah keluar."), "info")
    response = redirect_after_post(url_for("auth.login"))
    # a shared phone keeps no copy of the pages seen (the roll call holds names) after signing out
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/kata-sandi", methods=["GET", "POST"])
@login_required
def password():
    """Change one's own password; other signed-in devices are signed out."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            change_password(current_user, form.current.data, form.new.data)
        except AccountError as error:
            attach_error(form, error, error.field or "current")
        else:
            login_user(
                current_user._get_current_object()
            )  # keep this device signed in with the new version
            flash(_("Kata sandi sudah diganti."), "success")
            return redirect_after_post(url_for("main.home"))
    status = 422 if request.method == "POST" else 200
    return render("auth/password.html", form=form, status=status)


@bp.get("/pengguna")
@roles_required(*OPERATOR_ROLES)
def users():
    """Accounts inside the operator's scope, newest first, with the inactive ones marked;
    ``q`` finds them by name, email, number or the name of their village or area."""
    query = queryargs.text("q")
    statement = sa.select(User).where(scope_filter(User.scope_code, current_user))
    if query:
        number = sign_in_key(query)
        statement = statement.outerjoin(Region, Region.code == User.scope_code).where(
            sa.or_(
                contains_text(User.name, query),
                contains_text(User.email, query),
                User.phone == number,
                contains_text(Region.name, query),
            )
        )
    page = queryargs.paginate(statement.order_by(User.id.desc()), per_page=25)
    return render("auth/users.html", "auth/_user_rows.html", page=page, q=query)


def _account_form_errors(form: UserForm, error: AccountError) -> None:
    field = getattr(form, error.field or "", None)
    if field is not None and error.field != "scope":
        field.errors.append(str(error))
    else:
        form.scope_error = str(error)


def _offer_kims(form: UserForm, picker: RegionPicker) -> None:
    """The KIM of the chosen village, for a pengurus account; one KIM is taken without asking."""
    chosen = picker.chosen
    kims = kims_of_village(chosen.code if chosen and chosen.level is RegionLevel.DESA else None)
    form.offer_kims(kims)
    if form.role.data == Role.PENGURUS_KIM.value and not form.kim.data and len(kims) == 1:
        form.kim.data = str(kims[0].id)


@bp.route("/pengguna/baru", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def user_new():
    """Create an account below one's own role, inside one's scope; its owner gets a one-time
    invitation link (shown on the next page, ready to send by WhatsApp) to set a password."""
    form = UserForm()
    form.limit_roles(current_user)
    picker = RegionPicker.from_values(queryargs.values(), current_user, prefix="cakupan")
    _offer_kims(form, picker)
    refreshing = "_pick" in request.form
    if request.method == "POST" and not refreshing and form.validate_on_submit():
        role = Role(form.role.data)
        try:
            with db.session.begin_nested():
                user = create_user(
                    email=form.email.data,
                    phone=form.phone.data,
                    name=form.name.data,
                    role=role,
                    scope_code=picker.chosen.code if picker.chosen else None,
                    kim_id=form.kim_id,
                    by=current_user,
                )
                issue_link(user, LinkPurpose.INVITE, current_user)
        except AccountError as error:
            _account_form_errors(form, error)
        else:
            flash(_("Akun %(name)s dibuat. Kirim tautan undangannya.", name=user.name), "success")
            return redirect_after_post(url_for("auth.user_detail", user_id=user.id))
    status = 422 if request.method == "POST" and not refreshing else 200
    return render("auth/user_new.html", form=form, picker=picker, status=status)


def _user_in_reach(user_id: int) -> User:
    """An account the operator may manage: inside the scope (else 404) and below the operator's
    own role, or the operator's own (else 403)."""
    user = db.get_or_404(User, user_id)
    ensure_in_scope(user.scope_code)
    if user.id != current_user.id and not current_user.may_manage(user.role):
        abort(403)
    return user


@bp.route("/pengguna/<int:user_id>", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def user_detail(user_id: int):
    """One account: its pending link (with the WhatsApp hand-off) and its details to change."""
    user = _user_in_reach(user_id)
    editable = user.id != current_user.id
    if request.method == "POST" and not editable:
        abort(403)
    values = queryargs.values() if request.method == "POST" else {}
    initial = user.scope_code if request.method == "GET" else None
    form = UserForm(obj=None if request.method == "POST" else user)
    if request.method == "GET":
        form.role.data = user.role.value
        form.phone.data = display_phone(user.phone)
        form.kim.data = str(user.kim_id or "")
    form.limit_roles(current_user)
    picker = RegionPicker.from_values(values, current_user, prefix="cakupan", initial=initial)
    _offer_kims(form, picker)
    refreshing = "_pick" in request.form
    if request.method == "POST" and not refreshing and form.validate_on_submit():
        try:
            with db.session.begin_nested():
                update_user(
                    user,
                    name=form.name.data,
                    email=form.email.data,
                    phone=form.phone.data,
                    role=Role(form.role.data),
                    scope_code=picker.chosen.code if picker.chosen else None,
                    kim_id=form.kim_id,
                    by=current_user,
                )
        except AccountError as error:
            _account_form_errors(form, error)
        else:
            flash(_("Akun %(name)s disimpan.", name=user.name), "success")
            return redirect_after_post(url_for("auth.user_detail", user_id=user.id))
    link = pending_link(user)
    status = 422 if request.method == "POST" and not refreshing else 200
    return render(
        "auth/user_detail.html",
        account=user,
        form=form,
        picker=picker,
        editable=editable,
        link=link,
        handoff=link_handoff(link) if link else None,
        link_address=link_url(link) if link else None,
        status=status,
    )


@bp.post("/pengguna/<int:user_id>/tautan")
@roles_required(*OPERATOR_ROLES)
def user_link(user_id: int):
    """A new one-time link for the account: an invitation while it has no password, else a
    password reset. Earlier links stop working."""
    user = _user_in_reach(user_id)
    if user.id == current_user.id:
        abort(403)
    purpose = LinkPurpose.INVITE if user.password_hash is None else LinkPurpose.RESET
    issue_link(user, purpose, current_user)
    flash(
        _("Tautan baru untuk %(name)s dibuat; tautan lama tidak berlaku lagi.", name=user.name),
        "success",
    )
    return redirect_after_post(url_for("auth.user_detail", user_id=user.id))


@bp.get("/pengguna/undangan")
@roles_required(*OPERATOR_ROLES)
def user_links():
    """Accounts whose invitation or reset link is still waiting to be opened: the list an
    operator works through, one WhatsApp hand-off per row."""
    page = queryargs.paginate(pending_links_statement(current_user), per_page=25)
    rows = [(link, link_handoff(link)) for link in page.items]
    return render("auth/user_links.html", "auth/_user_link_rows.html", page=page, rows=rows)


@bp.route("/pengguna/kepala-desa", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def onboard():
    """Village-head accounts for every village of a district or regency that has none, in one
    step; the numbers, where the operator has them, go with it."""
    picker = RegionPicker.from_values(
        queryargs.values(), current_user, prefix="area", deepest=RegionLevel.KECAMATAN
    )
    area = picker.chosen
    if area is not None and area.level not in (RegionLevel.KABUPATEN, RegionLevel.KECAMATAN):
        area = None
    if area is not None and request.method == "POST":
        # two operators (or a double tap) onboarding the same area: the second waits for the
        # first, then finds its villages taken (PostgreSQL; SQLite's write lock already does)
        db.session.execute(sa.select(Region.code).where(Region.code == area.code).with_for_update())
    villages = villages_without_head(area.code) if area else []
    too_many = len(villages) > MAX_ONBOARD
    form = OnboardForm()
    error = wrong = None
    if request.method == "POST" and form.validate_on_submit():
        if area is None or not villages or too_many:
            error = _("Pilih kabupaten/kota atau kecamatan yang desanya belum punya akun.")
        else:
            numbers = {v.code: request.form.get(f"nomor-{v.code}", "")[:30] for v in villages}
            try:
                with db.session.begin_nested():
                    links = onboard_village_heads(villages, numbers, current_user)
            except AccountError as failure:
                error, wrong = str(failure), failure.field
            else:
                flash(
                    _(
                        "%(n)d akun kepala desa dibuat. Kirim tautan undangannya satu per satu.",
                        n=len(links),
                    ),
                    "success",
                )
                return redirect_after_post(url_for("auth.user_links"))
    status = 422 if request.method == "POST" else 200
    return render(
        "auth/onboard.html",
        picker=picker,
        area=area,
        villages=villages[:MAX_ONBOARD],
        too_many=too_many,
        form=form,
        error=error,
        wrong=wrong,
        values=request.form,
        status=status,
    )


@bp.post("/kim/<int:kim_id>/anggota/<int:member_id>/akun")
@roles_required(*OPERATOR_ROLES)
def member_account(kim_id: int, member_id: int):
    """A pengurus KIM account for a member of the KIM, with the member's name and number; the
    member gets an invitation link to set a password."""
    kim = get_kim_or_404(kim_id, current_user)
    member = db.session.get(Member, member_id)
    if member is None or member.kim_id != kim.id:
        abort(404)
    back = url_for("groups.members", kim_id=kim.id, _anchor=f"anggota-{member.id}")
    try:
        with db.session.begin_nested():
            user = create_user(
                name=member.name,
                phone=member.phone,
                email=member.email or None,
                role=Role.PENGURUS_KIM,
                scope_code=kim.village_code,
                kim_id=kim.id,
                by=current_user,
            )
            issue_link(user, LinkPurpose.INVITE, current_user)
    except AccountError as error:
        flash(str(error), "error")
        return redirect_after_post(back)
    flash(
        _("Akun pengurus untuk %(name)s dibuat. Kirim tautan undangannya.", name=user.name),
        "success",
    )
    return redirect_after_post(url_for("auth.user_detail", user_id=user.id))


@bp.route("/akun/<token>", methods=["GET", "POST"])
@limiter.limit(_link_limit, methods=["POST"])
def accept(token: str):
    """The owner opens their one-time link and sets a password; then they are signed in."""
    link = find_link(token)
    if link is None:
        return render("auth/link_invalid.html", status=404)
    form = AcceptForm()
    needs_phone = link.user.email is None and link.user.phone is None
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                user = accept_link(link, form.new.data, form.phone.data if needs_phone else None)
        except AccountError as error:
            attach_error(form, error, "phone" if error.field == "phone" else "new")
        else:
            lang = session.get("lang")
            session.clear()
            if lang:
                session["lang"] = lang
            session.permanent = True
            login_user(user)
            flash(_("Kata sandi tersimpan. Anda sudah masuk."), "success")
            return redirect_after_post(url_for("main.home"))
    status = 422 if request.method == "POST" else 200
    return render(
        "auth/accept.html",
        form=form,
        account=link.user,
        link=link,
        needs_phone=needs_phone,
        token=token,
        status=status,
    )


@bp.route("/lupa-kata-sandi", methods=["GET", "POST"])
@limiter.limit(_link_limit, methods=["POST"])
def forgot():
    """A forgotten password: the same answer whoever asks (nobody learns which accounts
    exist); with email configured, a reset link goes to the account's email off the request.
    Always: who can send a new link (the operator of the person's area)."""
    form = ForgotForm()
    sent = False
    if form.validate_on_submit():
        request_reset(form.email.data)
        sent = True
    status = 422 if request.method == "POST" and not sent else 200
    return render(
        "auth/forgot.html", form=form, sent=sent, email_on=email_configured(), status=status
    )


@bp.post("/pengguna/<int:user_id>/status")
@roles_required(*OPERATOR_ROLES)
def user_status(user_id: int):
    """Deactivate or reactivate an account in scope."""
    user = db.get_or_404(User, user_id)
    ensure_in_scope(user.scope_code)
    want_active = request.form.get("active") == "1"
    try:
        with db.session.begin_nested():
            set_user_active(user, want_active, current_user)
    except AccountError as error:
        flash(str(error), "error")
    else:
        flash(
            _("Akun %(email)s diaktifkan.", email=user.name)
            if want_active
            else _("Akun %(email)s dinonaktifkan.", email=user.name),
            "success",
        )
    return redirect_after_post(url_for("auth.users"))
