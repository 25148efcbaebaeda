"""Views of competitions: the operator's list, form, page (categories, rubric, stages, entries),
category form and entry check; the KIM's entry form; the public page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from kim_app.auth.models import OPERATOR_ROLES, Role
from kim_app.competitions import bp
from kim_app.competitions.forms import CategoryForm, CheckForm, CompetitionForm, EntryForm
from kim_app.competitions.models import Category, Competition, Entry, EntryStatus, Stage
from kim_app.competitions.operations import (
    CHECKS,
    MAX_CRITERIA,
    READY_STAGES,
    CategoryData,
    CompetitionData,
    CompetitionError,
    CriterionData,
    EntryData,
    advance,
    area_today,
    check_entry,
    create_competition,
    may_manage,
    open_to,
    ready_to_open,
    reports_to_attach,
    save_category,
    save_entry,
    taking_entries,
    update_competition,
)
from kim_app.competitions.queries import (
    area_names,
    competitions,
    entries,
    entry_counts,
    entry_for_operator,
    get_competition_or_404,
    get_public_or_404,
    kim_entries,
)
from kim_app.errors import attach_error
from kim_app.extensions import db
from kim_app.groups.models import Kim
from kim_app.groups.operations import get_kim_or_404, kim_filter
from kim_app.htmx import redirect_after_post, render
from kim_app.phones import whatsapp_link
from kim_app.security import roles_required

VILLAGE_ROLES = (Role.KEPALA_DESA, Role.PENGURUS_KIM)
VIEWERS = (*OPERATOR_ROLES, *VILLAGE_ROLES)


def _managed(competition_id: int) -> Competition:
    competition = get_competition_or_404(competition_id, current_user)
    if not may_manage(current_user, competition):
        abort(403)
    return competition


def _category(competition: Competition, category_id: int) -> Category:
    found = next((c for c in competition.categories if c.id == category_id), None)
    return found or abort(404)


# --- the operator's ------------------------------------------------------------------------------


@bp.get("/lomba")
@roles_required(*OPERATOR_ROLES)
def index():
    """The competitions of the operator's wilayah, those below it and those above it."""
    page = competitions(current_user)
    areas = area_names({c.area_code for c in page.items})
    return render("competitions/index.html", page=page, areas=areas)


def _data(form: CompetitionForm) -> CompetitionData:
    return CompetitionData(
        title=form.title.data or "",
        description=form.description.data or "",
        year=form.year.data,
        opens_on=form.opens_on.data,
        closes_on=form.closes_on.data,
        nominated_only=False,
        presentation=form.presentation.data,
    )


def _form_page(form: CompetitionForm, competition: Competition | None, status: int = 200):
    return render("competitions/form.html", status=status, form=form, competition=competition)


@bp.route("/lomba/baru", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def new():
    """A competition of the operator's own area, as a draft: categories and rubric come next."""
    if request.method == "GET":
        return _form_page(CompetitionForm(formdata=None), None)
    form = CompetitionForm()
    if not form.validate_on_submit():
        return _form_page(form, None, 422)
    try:
        with db.session.begin_nested():
            competition = create_competition(_data(form), current_user)
    except CompetitionError as error:
        attach_error(form, error)
        return _form_page(form, None, 422)
    flash(_("Lomba dibuat sebagai draf. Tambahkan kategori dan rubrik penilaiannya."), "success")
    return redirect_after_post(url_for("competitions.detail", competition_id=competition.id))


@bp.route("/lomba/<int:competition_id>/ubah", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def edit(competition_id: int):
    competition = _managed(competition_id)
    if request.method == "GET":
        return _form_page(CompetitionForm(formdata=None, obj=competition), competition)
    form = CompetitionForm()
    if not form.validate_on_submit():
        return _form_page(form, competition, 422)
    try:
        with db.session.begin_nested():
            update_competition(competition, _data(form), current_user)
    except CompetitionError as error:
        attach_error(form, error)
        return _form_page(form, competition, 422)
    flash(_("Lomba disimpan."), "success")
    return redirect_after_post(url_for("competitions.detail", competition_id=competition.id))


@bp.get("/lomba/<int:competition_id>")
@roles_required(*VIEWERS)
def detail(competition_id: int):
    """The competition: its stages, categories and rubrics; for its operators the entries and
    the next step; for a village person the entry buttons of their KIM."""
    competition = get_competition_or_404(competition_id, current_user)
    managed = may_manage(current_user, competition)
    mine = []
    if current_user.role in VILLAGE_ROLES:
        mine = [
            (kim, kim_entries(kim, competition))
            for kim in db.session.scalars(
                sa.select(Kim).where(kim_filter(current_user)).order_by(Kim.created_at)
            )
            if open_to(kim, competition)
        ]
    return render(
        "competitions/detail.html",
        competition=competition,
        managed=managed,
        operator=current_user.role in OPERATOR_ROLES,
        found=entries(competition, current_user) if current_user.role in OPERATOR_ROLES else None,
        counts=entry_counts(competition, current_user)
        if current_user.role in OPERATOR_ROLES
        else {},
        advancing=competition.next_stage if competition.next_stage in READY_STAGES else None,
        missing=_not_yet(competition),
        mine=mine,
        taking=taking_entries(competition),
        today=area_today(competition),
        share=whatsapp_link(
            None,
            f"{competition.title}\n{url_for('competitions.public', code=competition.code, _external=True)}",
        ),
    )


def _not_yet(competition: Competition) -> list[str]:
    """Why the next stage cannot start yet (empty when it can)."""
    if competition.stage is Stage.DRAF:
        return ready_to_open(competition)
    if competition.stage is Stage.PENDAFTARAN and area_today(competition) <= competition.closes_on:
        return [
            _(
                "Pendaftaran dibuka sampai %(day)s; seleksi administrasi dimulai setelahnya. "
                "Pendaftaran yang sudah masuk dapat diperiksa sekarang.",
                day=format_date(competition.closes_on, "long"),
            )
        ]
    return []


@bp.post("/lomba/<int:competition_id>/tahap")
@roles_required(*OPERATOR_ROLES)
def next_stage(competition_id: int):
    """Move the competition on: open registration, then the check, judging, results."""
    competition = _managed(competition_id)
    try:
        expected = Stage(request.form.get("dari", ""))
    except ValueError:
        abort(400)
    try:
        with db.session.begin_nested():
            stage = advance(competition, expected, current_user)
    except CompetitionError as error:
        flash(str(error), "error")
    else:
        flash(_("Lomba kini di tahap %(stage)s.", stage=stage.label), "success")
    return redirect_after_post(url_for("competitions.detail", competition_id=competition.id))


def _category_form(category: Category | None, formdata=...) -> CategoryForm:
    if formdata is not ...:
        data = {}
        if category is not None:
            data = {
                "name": category.name,
                "description": category.description,
                "criteria": [
                    {"name": c.name, "weight": c.weight, "lowest": c.lowest, "highest": c.highest}
                    for c in category.criteria
                ],
            }
        return CategoryForm(formdata=None, data=data)
    return CategoryForm()


def _category_page(competition, category, form, status=200) -> Response:
    return render(
        "competitions/category.html",
        status=status,
        competition=competition,
        category=category,
        form=form,
    )


def _save_category(competition: Competition, category: Category | None) -> Response:
    if request.method == "GET":
        return _category_page(competition, category, _category_form(category, None))
    form = _category_form(category)
    if not form.validate_on_submit():
        return _category_page(competition, category, form, 422)
    rows = [row.form for row in form.criteria.entries[:MAX_CRITERIA] if row.form.filled]
    data = CategoryData(
        name=form.name.data or "",
        description=form.description.data or "",
        criteria=tuple(
            CriterionData(
                name=r.name.data or "",
                weight=r.weight.data or 0,
                lowest=r.lowest.data if r.lowest.data is not None else 1,
                highest=r.highest.data if r.highest.data is not None else 100,
            )
            for r in rows
        ),
    )
    try:
        with db.session.begin_nested():
            save_category(competition, category, data, current_user)
    except CompetitionError as error:
        attach_error(form, error)
        return _category_page(competition, category, form, 422)
    flash(_("Kategori dan rubriknya disimpan."), "success")
    return redirect_after_post(url_for("competitions.detail", competition_id=competition.id))


@bp.route("/lomba/<int:competition_id>/kategori/baru", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def category_new(competition_id: int):
    """A category with its rubric: criteria, each with a weight and the range of a score."""
    return _save_category(_managed(competition_id), None)


@bp.route("/lomba/<int:competition_id>/kategori/<int:category_id>", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def category_edit(competition_id: int, category_id: int):
    competition = _managed(competition_id)
    return _save_category(competition, _category(competition, category_id))


def _entry_for_operator(competition: Competition, entry_id: int) -> Entry:
    return entry_for_operator(competition, entry_id, current_user) or abort(404)


def _check_page(competition, entry, form, status=200) -> Response:
    return render(
        "competitions/entry_check.html",
        status=status,
        competition=competition,
        entry=entry,
        form=form,
        reports=[r for r in reports_to_attach(entry.kim) if r.id in entry.report_ids],
        managed=may_manage(current_user, competition),
        checks=CHECKS,
    )


@bp.route("/lomba/<int:competition_id>/peserta/<int:entry_id>", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def entry_check(competition_id: int, entry_id: int):
    """A sent entry as the KIM sent it; its operators check that it is complete, return it for
    fixes (with a note) or find it not eligible (with the reason)."""
    competition = get_competition_or_404(competition_id, current_user)
    entry = _entry_for_operator(competition, entry_id)
    if request.method == "GET":
        return _check_page(competition, entry, CheckForm(formdata=None))
    if not may_manage(current_user, competition):
        abort(403)
    form = CheckForm()
    wanted = request.form.get("status", "")
    if not form.validate_on_submit() or wanted not in {s.value for s in CHECKS}:
        return _check_page(competition, entry, form, 422)
    try:
        with db.session.begin_nested():
            check_entry(entry, EntryStatus(wanted), form.note.data or "", current_user)
    except CompetitionError as error:
        attach_error(form, error)
        db.session.refresh(entry)
        return _check_page(competition, entry, form, 422)
    flash(_("%(kim)s: %(status)s.", kim=entry.kim.name, status=entry.status.label), "success")
    return redirect_after_post(url_for("competitions.detail", competition_id=competition.id))


# --- the KIM's ------------------------------------------------------------------------------------


def _entry_page(kim, category, entry, form, status=200) -> Response:
    return render(
        "competitions/entry.html",
        status=status,
        kim=kim,
        competition=category.competition,
        category=category,
        entry=entry,
        form=form,
        taking=taking_entries(category.competition),
    )


@bp.route(
    "/kim/<int:kim_id>/lomba/<int:competition_id>/kategori/<int:category_id>",
    methods=["GET", "POST"],
)
@roles_required(*VIEWERS)
def entry(kim_id: int, competition_id: int, category_id: int):
    """The KIM's entry in a category: kept as a draft, sent until the last day, fixed when the
    committee returns it. The competition's operators may also keep one for a KIM of their
    area (an entry that came by WhatsApp)."""
    kim: Kim = get_kim_or_404(kim_id, current_user)
    competition = get_competition_or_404(competition_id, current_user)
    if not open_to(kim, competition):
        abort(404)
    if current_user.role in OPERATOR_ROLES and not may_manage(current_user, competition):
        abort(403)
    category = _category(competition, category_id)
    found = kim_entries(kim, competition).get(category.id)
    reports = reports_to_attach(kim)
    if request.method == "GET":
        form = EntryForm(
            formdata=None,
            summary=found.summary if found else "",
            links=found.links if found else "",
            reports=found.report_ids if found else [],
        )
        return _entry_page(kim, category, found, form.with_reports(reports))
    form = EntryForm().with_reports(reports)
    if not form.validate_on_submit():
        return _entry_page(kim, category, found, form, 422)
    send = request.form.get("aksi") == "kirim"
    data = EntryData(
        summary=form.summary.data or "",
        links=tuple((form.links.data or "").splitlines()),
        reports=tuple(form.reports.data or ()),
    )
    try:
        with db.session.begin_nested():
            _entry, sent = save_entry(kim, category, data, current_user, submit=send)
    except CompetitionError as error:
        attach_error(form, error)
        return _entry_page(kim, category, found, form, 422)
    flash(
        _("Pendaftaran terkirim. Panitia akan memeriksa kelengkapannya.")
        if sent
        else _("Draf disimpan. Kirim sebelum pendaftaran ditutup."),
        "success",
    )
    return redirect_after_post(
        url_for("competitions.detail", competition_id=competition.id, _anchor=f"kim-{kim.id}")
    )


# --- public ---------------------------------------------------------------------------------------


@bp.get("/lomba-kim/<code>")
def public(code: str):
    """The competition as anyone may read it: categories, rubric, schedule, who may enter."""
    competition = get_public_or_404(code)
    return render(
        "competitions/public.html",
        competition=competition,
        managed=may_manage(current_user, competition),
        taking=taking_entries(competition),
    )
