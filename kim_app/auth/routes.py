"""Sign-in, sign-out, password change and user administration."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, flash, make_response, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_url, login_user, logout_user
from sqlalchemy.orm import lazyload

from kim_app.auth import bp
from kim_app.auth.forms import LoginForm, PasswordForm, UserForm
from kim_app.auth.models import OPERATOR_ROLES, Role, User
from kim_app.auth.services import (
    AccountError,
    authenticate,
    change_password,
    create_user,
    normalise_email,
    set_user_active,
)
from kim_app.extensions import db, limiter, login_manager
from kim_app.htmx import redirect_after_post, render
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
    return "login:" + normalise_email(request.form.get("email", ""))[:254]


def _failed_login(response) -> bool:
    """Only failed attempts count against the limits; success is a redirect (plain or htmx)."""
    return not (response.status_code == 303 or "HX-Redirect" in response.headers)


def _address_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_ADDRESS"]


def _account_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_ACCOUNT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"], deduct_when=_failed_login)
@limiter.limit(
    _account_limit, methods=["POST"], key_func=_login_account_key, deduct_when=_failed_login
)
def login():
    """Sign in with email and password; ``next`` is followed only to a local path."""
    form = LoginForm(next=request.args.get("next", ""))
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
            db.session.commit()
            target = form.next.data
            return redirect_after_post(target if is_safe_next(target) else url_for("main.home"))
        form.password.errors.append(_("Email atau kata sandi salah."))
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
        db.session.commit()
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
            getattr(form, error.field or "current").errors.append(str(error))
        else:
            db.session.commit()
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
    """Accounts inside the operator's scope, newest first, with the inactive ones marked."""
    page = db.paginate(
        sa.select(User).where(scope_filter(User.scope_code, current_user)).order_by(User.id.desc()),
        per_page=25,
        error_out=False,
    )
    return render("auth/users.html", "auth/_user_rows.html", page=page)


@bp.route("/pengguna/baru", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def user_new():
    """Create an account below one's own role, inside one's scope."""
    form = UserForm()
    form.limit_roles(current_user)
    picker = RegionPicker.from_values(request.values, current_user, prefix="cakupan")
    refreshing = "_pick" in request.form
    if request.method == "POST" and not refreshing and form.validate_on_submit():
        role = Role(form.role.data)
        scope = picker.chosen.code if picker.chosen else None
        try:
            user = create_user(
                email=form.email.data,
                name=form.name.data,
                role=role,
                scope_code=scope,
                password=form.password.data,
                by=current_user,
            )
        except AccountError as error:
            field = {"scope": None}.get(error.field, error.field)
            if field and hasattr(form, field):
                getattr(form, field).errors.append(str(error))
            else:
                form.scope_error = str(error)
        else:
            db.session.commit()
            flash(_("Akun %(email)s dibuat.", email=user.email), "success")
            return redirect_after_post(url_for("auth.users"))
    status = 422 if request.method == "POST" and not refreshing else 200
    return render("auth/user_new.html", form=form, picker=picker, status=status)


@bp.post("/pengguna/<int:user_id>/status")
@roles_required(*OPERATOR_ROLES)
def user_status(user_id: int):
    """Deactivate or reactivate an account in scope."""
    user = db.get_or_404(User, user_id)
    ensure_in_scope(user.scope_code)
    want_active = request.form.get("active") == "1"
    try:
        set_user_active(user, want_active, current_user)
    except AccountError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(
            _("Akun %(email)s diaktifkan.", email=user.email)
            if want_active
            else _("Akun %(email)s dinonaktifkan.", email=user.email),
            "success",
        )
    return redirect_after_post(url_for("auth.users"))
