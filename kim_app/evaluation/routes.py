"""The operator's side of a training's evaluation: the question set, the settings, the results
and their XLSX. Only operators who manage the event reach these pages."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from kim_app import audit, importing, queryargs, tables
from kim_app.auth.models import OPERATOR_ROLES
from kim_app.documents import PRIVATE, qr_svg
from kim_app.errors import attach_error
from kim_app.evaluation import bp
from kim_app.evaluation.forms import LETTERS, QuestionForm, SettingsForm
from kim_app.evaluation.imports import HEADERS, QuestionImporter
from kim_app.evaluation.models import Phase, Question
from kim_app.evaluation.operations import (
    EvaluationError,
    QuestionData,
    SettingsData,
    add_question,
    default_window,
    delete_question,
    has_questions,
    questions_locked,
    questions_of,
    save_settings,
    settings_of,
    survey_window,
    test_window,
    update_question,
)
from kim_app.evaluation.queries import (
    all_scores,
    missed,
    scores,
    speaker_scores,
    summary,
    survey_result,
)
from kim_app.evaluation.skm import GRADE_LABELS, WORDED
from kim_app.events.models import Event
from kim_app.events.operations import get_event_or_404, local_now
from kim_app.extensions import db
from kim_app.htmx import is_partial, redirect_after_post, render
from kim_app.security import roles_required
from kim_app.uploads import upload_limit


def _event(event_id: int) -> Event:
    return get_event_or_404(event_id, current_user, manage=True)


def _windows(event: Event) -> dict:
    settings = settings_of(event)
    return {phase.value: test_window(event, settings, phase) for phase in Phase} | {
        "survey": survey_window(event, settings)
    }


@bp.get("/kegiatan/<int:event_id>/evaluasi")
@roles_required(*OPERATOR_ROLES)
def overview(event_id: int):
    """The question set, when each part opens, the link for the hall, and the results so far."""
    event = _event(event_id)
    questions = questions_of(event)
    link = url_for("evaluation.entry", code=event.code, _external=True)
    return render(
        "evaluation/overview.html",
        event=event,
        settings=settings_of(event),
        questions=questions,
        locked=questions_locked(event),
        windows=_windows(event),
        summary=summary(event),
        survey=survey_result(event),
        link=link,
        qr=qr_svg(link, _("Kode QR tes dan survei")),
        letters=LETTERS,
        grade_labels=GRADE_LABELS,
        delete_form=FlaskForm(),
    )


def _question_page(event: Event, form: QuestionForm, question: Question | None, status=200):
    return render(
        "evaluation/question_form.html",
        status=status,
        event=event,
        form=form,
        question=question,
        locked=questions_locked(event),
    )


def _question_or_404(event: Event, question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None or question.event_id != event.id:
        abort(404)
    return question


def _question_data(form: QuestionForm) -> QuestionData:
    return QuestionData(
        text=(form.text.data or "").strip(),
        choices=form.choices(),
        answer=int(form.answer.data),
        explanation=(form.explanation.data or "").strip(),
    )


def _save_question(event: Event, question: Question | None) -> Response:
    form = QuestionForm()
    if not form.validate_on_submit():
        return _question_page(event, form, question, 422)
    try:
        if question is None:
            add_question(event, _question_data(form), current_user)
            flash(_("Soal ditambahkan."), "success")
        else:
            update_question(event, question, _question_data(form), current_user)
            flash(_("Soal disimpan."), "success")
    except EvaluationError as error:
        attach_error(form, error)
        return _question_page(event, form, question, 422)
    if question is None and request.form.get("aksi") == "lagi":
        return redirect_after_post(url_for("evaluation.question_new", event_id=event.id))
    return redirect_after_post(url_for("evaluation.overview", event_id=event.id) + "#soal")


@bp.route("/kegiatan/<int:event_id>/evaluasi/soal/baru", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def question_new(event_id: int):
    event = _event(event_id)
    if request.method == "GET":
        return _question_page(event, QuestionForm(formdata=None), None)
    return _save_question(event, None)


@bp.route("/kegiatan/<int:event_id>/evaluasi/soal/<int:question_id>", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def question_edit(event_id: int, question_id: int):
    event = _event(event_id)
    question = _question_or_404(event, question_id)
    if request.method == "POST":
        return _save_question(event, question)
    form = QuestionForm(formdata=None, text=question.text, explanation=question.explanation)
    for field, choice in zip(form.choice_fields(), question.choices, strict=False):
        field.data = choice
    form.answer.data = str(question.answer)
    return _question_page(event, form, question)


@bp.post("/kegiatan/<int:event_id>/evaluasi/soal/<int:question_id>/hapus")
@roles_required(*OPERATOR_ROLES)
def question_delete(event_id: int, question_id: int):
    event = _event(event_id)
    question = _question_or_404(event, question_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        delete_question(event, question, current_user)
        flash(_("Soal dihapus."), "success")
    except EvaluationError as error:
        flash(str(error), "error")
    return redirect_after_post(url_for("evaluation.overview", event_id=event.id) + "#soal")


def _settings_page(event: Event, form: SettingsForm, status: int = 200) -> Response:
    return render(
        "evaluation/settings.html",
        status=status,
        event=event,
        form=form,
        defaults={phase.value: default_window(event, phase) for phase in Phase},
        elements=WORDED,
    )


@bp.route("/kegiatan/<int:event_id>/evaluasi/pengaturan", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def settings(event_id: int):
    """When the tests open, the survey's anonymity and wording, and the certificate's rule."""
    event = _event(event_id)
    current = settings_of(event)
    if request.method == "GET":
        form = SettingsForm(formdata=None, obj=current)
        for element in WORDED:
            form[f"unsur_{element.key}"].data = (current.survey_questions or {}).get(
                element.key, ""
            )
        return _settings_page(event, form)
    form = SettingsForm()
    if not form.validate_on_submit():
        return _settings_page(event, form, 422)
    data = SettingsData(
        **{name: form[name].data for name in ("pre_opens_at", "pre_closes_at")},
        **{name: form[name].data for name in ("post_opens_at", "post_closes_at")},
        survey_on=form.survey_on.data,
        survey_anonymous=form.survey_anonymous.data,
        certificate_needs_post=form.certificate_needs_post.data,
        rate_speakers=form.rate_speakers.data,
        survey_questions={
            element.key: text
            for element in WORDED
            if (text := (form[f"unsur_{element.key}"].data or "").strip())
        },
    )
    try:
        save_settings(event, data, current_user)
    except EvaluationError as error:
        attach_error(form, error)
        return _settings_page(event, form, 422)
    flash(_("Pengaturan evaluasi disimpan."), "success")
    if data.rate_speakers and not any(s.speakers for s in event.sessions):
        flash(
            _(
                "Agenda kegiatan ini belum mencantumkan narasumber, jadi survei belum menanyakan "
                "penilaian narasumber. Tambahkan narasumber di Ubah kegiatan."
            ),
            "info",
        )
    return redirect_after_post(url_for("evaluation.overview", event_id=event.id))


@bp.get("/kegiatan/<int:event_id>/evaluasi/hasil")
@roles_required(*OPERATOR_ROLES)
def results(event_id: int):
    """Each person's pre and post score and gain (a page at a time), the group's averages, the
    questions most got wrong, and the satisfaction index with its comments."""
    event = _event(event_id)
    questions = questions_of(event)
    return render(
        "evaluation/results.html",
        "evaluation/_scores.html",
        event=event,
        page=scores(event, queryargs.page()),
        summary=summary(event),
        missed=missed(event, questions)[:10],
        survey=survey_result(event),
        speakers=speaker_scores(event),
        elements=WORDED,
        letters=LETTERS,
        grade_labels=GRADE_LABELS,
    )


@bp.get("/kegiatan/<int:event_id>/evaluasi/hasil.xlsx")
@roles_required(*OPERATOR_ROLES)
def results_xlsx(event_id: int):
    """Each person's scores as XLSX (names and institutions, no numbers); audited."""
    event = _event(event_id)
    people = all_scores(event)
    headers = [
        _("Nama"),
        _("Instansi"),
        _("Nilai pre-test"),
        _("Nilai post-test"),
        _("Kenaikan"),
    ]
    rows = [
        [
            p.name,
            p.institution,
            None if p.pre is None else round(float(p.pre), 1),
            None if p.post is None else round(float(p.post), 1),
            None if p.gain is None else round(float(p.gain), 1),
        ]
        for p in people
    ]
    response = tables.table_download(
        f"hasil-tes-{event.code}", _("Hasil tes"), "xlsx", headers, rows
    )
    response.headers.update(PRIVATE)
    audit.record(
        "evaluation.export",
        "event",
        event.id,
        region_code=event.region_code,
        changes={"rows": len(rows)},
        actor=current_user,
    )
    return response


# --- the questions from a file -------------------------------------------------------------------


@bp.route("/kegiatan/<int:event_id>/evaluasi/soal/impor", methods=["GET", "POST"])
@upload_limit(importing.UPLOAD_LIMIT)
@roles_required(*OPERATOR_ROLES)
def questions_import(event_id: int):
    """Upload the questions as XLSX or CSV (up to 5 MB), then go to the preview."""
    event = _event(event_id)
    form = importing.UploadForm()
    if form.validate_on_submit():
        token = form.store(QuestionImporter(event))
        if token:
            return redirect_after_post(
                url_for("evaluation.questions_import_preview", event_id=event.id, token=token)
            )
    status = 422 if request.method == "POST" else 200
    return render(
        "evaluation/import_upload.html",
        form=form,
        status=status,
        event=event,
        locked=questions_locked(event),
    )


@bp.route("/kegiatan/<int:event_id>/evaluasi/soal/impor/<token>", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def questions_import_preview(event_id: int, token: str):
    """Map the columns, see each invalid row with its reason, import the valid ones or cancel."""
    event = _event(event_id)
    wizard = importing.Wizard(
        importers=[QuestionImporter(event)],
        template="evaluation/import_preview.html",
        here=lambda token: url_for(
            "evaluation.questions_import_preview", event_id=event.id, token=token
        ),
        back=url_for("evaluation.questions_import", event_id=event.id),
        done=url_for("evaluation.overview", event_id=event.id) + "#soal",
        context=lambda: {"event": event},
    )
    return wizard.preview(token)


@bp.get("/kegiatan/<int:event_id>/evaluasi/soal/contoh.xlsx")
@roles_required(*OPERATOR_ROLES)
def questions_example(event_id: int):
    """An XLSX in the layout the import reads: the headers, and the event's questions as rows
    (or one example) — fill it in and upload it."""
    event = _event(event_id)
    rows = [
        [
            q.text,
            *(q.choices + [""] * (len(LETTERS) - len(q.choices))),
            LETTERS[q.answer],
            q.explanation,
        ]
        for q in questions_of(event)
    ] or [
        [
            _("Siapa yang membina KIM di kabupaten/kota?"),
            "Diskominfo",
            _("Bank daerah"),
            _("Pengadilan negeri"),
            "",
            "",
            "",
            "A",
            _("KIM dibina oleh dinas komunikasi dan informatika."),
        ]
    ]
    response = tables.table_download(f"soal-{event.code}", _("Soal"), "xlsx", HEADERS, rows)
    response.headers.update(PRIVATE)
    return response


SCREEN_REFRESH_SECONDS = 60  # what is open changes with the clock; the screen follows it


@bp.get("/kegiatan/<int:event_id>/evaluasi/layar")
@roles_required(*OPERATOR_ROLES)
def screen(event_id: int):
    """The hall's screen for the tests and the survey: a large QR code to ``/e/<code>/tes``, the
    steps, the venue PIN and what is open now, which an htmx partial request gets alone (the
    screen asks for it once a minute)."""
    event = _event(event_id)
    link = url_for("evaluation.entry", code=event.code, _external=True)
    settings = settings_of(event)
    now = local_now(event)
    windows = _windows(event)
    names = {"pre": _("Pre-test"), "post": _("Post-test"), "survey": _("Survei kepuasan")}
    offered = {"pre": has_questions(event), "survey": settings.survey_on}
    offered["post"] = offered["pre"]
    open_now = [
        (names[key], window)
        for key, window in windows.items()
        if window is not None and window.holds(now) and offered[key]
    ]
    response = render(
        "evaluation/screen.html",
        "evaluation/_screen_open.html",
        event=event,
        qr="" if is_partial() else qr_svg(link, _("Kode QR tes dan survei")),
        short_url=link.split("://", 1)[-1],
        open_now=open_now,
        refresh=SCREEN_REFRESH_SECONDS,
    )
    response.headers.update(PRIVATE)
    return response
