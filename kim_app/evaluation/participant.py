"""The participant's side: the pre- and post-test and the satisfaction survey on their own phone,
without an account.

Every page of a person's tests and survey carries their *pass* in its address,
``/e/<code>/tes/<pass>``: the event and registration signed with the app's key. The pass opens
these pages only (not the ticket, which can cancel a seat). The ticket page links to it; in the
hall, ``/e/<code>/tes`` gives it to whoever types the code printed on a ticket, or their number
(with the venue PIN when the event has one, as self check-in asks). The access log writes the
pass as ``***``.

Every answer is saved when given: with JavaScript, each change is posted at once (the whole form,
so a request lost on a weak signal is made good by the next); without it, "Simpan" and "Kirim"
post the form. Coming back shows what was saved, so a dropped connection loses at most the answer
in flight. The server's clock decides whether a test is open."""

from __future__ import annotations

from datetime import datetime

from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response

from kim_app.attendance.checkin import find_person, not_found, pin_right, pins_locked
from kim_app.attendance.operations import ticket_elsewhere
from kim_app.documents import PRIVATE
from kim_app.errors import error_response
from kim_app.evaluation import bp
from kim_app.evaluation.forms import LETTERS, EntryForm
from kim_app.evaluation.models import Phase, Question
from kim_app.evaluation.operations import (
    EvaluationError,
    Window,
    answers_of,
    attempt_of,
    has_answered_survey,
    has_questions,
    questions_of,
    save_answers,
    save_survey,
    settings_of,
    speaker_ratings_of,
    submit_attempt,
    submit_survey,
    survey_response_of,
    survey_window,
    test_window,
)
from kim_app.evaluation.queries import percent
from kim_app.evaluation.skm import ELEMENTS, RATING_LABELS, RATINGS, WORDED
from kim_app.events.models import Event, EventStatus, Registration
from kim_app.events.operations import get_public_event_or_404, local_now
from kim_app.extensions import db, limiter
from kim_app.htmx import is_partial, redirect_after_post, render

PASS_SALT = "kim-evaluasi"


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=PASS_SALT)


def pass_of(registration: Registration) -> str:
    """The key to one registration's tests and survey (stable: the same link every time)."""
    return _signer().dumps([registration.event_id, registration.id])


def _holder(event: Event, key: str) -> Registration:
    """The registration ``key`` opens in this event; 404 for a forged, foreign or stale pass."""
    try:
        event_id, registration_id = _signer().loads(key)
    except (BadSignature, TypeError, ValueError):
        event_id = registration_id = None
    registration = db.session.get(Registration, registration_id) if event_id == event.id else None
    if registration is None or registration.event_id != event.id:
        abort(
            error_response(
                404,
                _("Tautan tes tidak dikenal"),
                _(
                    "Buka tes dan survei dari halaman tiket Anda (tombol Buka tes dan survei), "
                    "atau ketik kode presensi di %(url)s.",
                    url=url_for("evaluation.entry", code=event.code, _external=True),
                ),
            )
        )
    return registration


def offered(event: Event) -> bool:
    """A test (the event has questions) or the survey (on unless the operator turned it off)."""
    if event.status in (EventStatus.DRAFT, EventStatus.DIBATALKAN):
        return False
    return has_questions(event) or settings_of(event).survey_on


def _private(response: Response) -> Response:
    response.headers.update(PRIVATE)
    return response


def _state(window: Window | None, sent: bool, now: datetime) -> str:
    if sent:
        return "terkirim"
    if window is None:
        return "tidak"
    if now < window.opens:
        return "belum"
    if now >= window.closes:
        return "tutup"
    return "buka"


def _checkin_limit() -> str:
    return current_app.config["KIM_RATELIMIT_CHECKIN"]


def _code_only() -> str:
    return _(
        "Ketik kode presensi dari tiket Anda (8 karakter di bawah kode QR), atau buka tes dari "
        "halaman tiket. Tiket hilang? Temukan lagi lewat halaman kegiatan."
    )


def _entry_page(event: Event, form: EntryForm, status: int = 200) -> Response:
    if not event.venue_pin:  # a number alone opens nothing: only the ticket's code is asked
        form.who.label.text = _("Kode presensi")
        form.who.description = _("8 karakter di bawah kode QR tiket Anda, contoh K7M4 QXP2.")
    return _private(render("evaluation/entry.html", status=status, event=event, form=form))


def _hub_page(event: Event, person: Registration, key: str) -> Response:
    settings = settings_of(event)
    now = local_now(event)
    parts = []
    if has_questions(event):
        for phase in Phase:
            attempt = attempt_of(person, phase)
            sent = attempt is not None and attempt.submitted_at is not None
            window = test_window(event, settings, phase)
            parts.append(
                {
                    "name": phase.label,
                    "url": url_for("evaluation.test", code=event.code, key=key, phase=phase.value),
                    "state": _state(window, sent, now),
                    "window": window,
                    "begun": attempt is not None,
                    "score": percent(attempt.correct, attempt.total) if sent else None,
                    "test": True,
                }
            )
    if settings.survey_on:
        window = survey_window(event, settings)
        parts.append(
            {
                "name": _("Survei kepuasan"),
                "url": url_for("evaluation.survey", code=event.code, key=key),
                "state": _state(window, has_answered_survey(person), now),
                "window": window,
                "begun": survey_response_of(person) is not None,
                "score": None,
                "test": False,
            }
        )
    return _private(render("evaluation/hub.html", event=event, person=person, parts=parts))


@bp.route("/e/<code>/tes", methods=["GET", "POST"])
@limiter.limit(_checkin_limit, methods=["POST"])
def entry(code: str):
    """In the hall: the person names themself (the code on their ticket, or their number and
    the venue PIN) and is sent to their own tests and survey."""
    event = get_public_event_or_404(code)
    if request.method == "GET":
        return _entry_page(event, EntryForm(formdata=None))
    form = EntryForm()
    if not form.validate_on_submit():
        return _entry_page(event, form, 422)
    person, by_number = find_person(event, form.who.data or "")
    if person is None:
        typed = form.who.data or ""
        unknown = not event.venue_pin and typed.strip() and not ticket_elsewhere(event, typed)
        form.who.errors.append(
            _("Kode presensi tidak dikenal.") if unknown else not_found(event, typed)
        )
        return _entry_page(event, form, 422)
    if by_number and not event.venue_pin:
        # a number is no secret: without the hall's PIN it would open anyone's tests
        form.who.errors.append(_code_only())
        return _entry_page(event, form, 422)
    if by_number and not (form.pin.data or "").strip():
        form.pin.errors.append(_("Isi PIN yang ditampilkan di layar ruangan."))
        return _entry_page(event, form, 422)
    if by_number:
        right = pin_right(event, form.pin.data or "")
        if right is None:
            return pins_locked(event)
        if not right:
            form.pin.errors.append(_("PIN salah. Lihat PIN di layar ruangan."))
            return _entry_page(event, form, 422)
    flash(
        _("Halaman ini untuk %(name)s. Simpan alamatnya untuk kembali nanti.", name=person.name),
        "success",
    )
    return _private(redirect_after_post(url_for("evaluation.hub", code=code, key=pass_of(person))))


@bp.get("/e/<code>/tes/<key>")
def hub(code: str, key: str):
    """One person's tests and survey: what is open now, what opens later, what was sent."""
    event = get_public_event_or_404(code)
    return _hub_page(event, _holder(event, key), key)


# --- the test -----------------------------------------------------------------------------------


def _chosen(questions: list[Question]) -> dict[int, int]:
    """The choices posted: ``q<id>`` → a choice's index (anything else is left out)."""
    chosen = {}
    for question in questions:
        raw = request.form.get(f"q{question.id}", "")
        if len(raw) == 1 and raw in "0123456789":
            chosen[question.id] = int(raw)
    return chosen


def _test_page(
    event: Event,
    person: Registration,
    key: str,
    phase: Phase,
    questions: list[Question],
    *,
    status: int = 200,
    unanswered: list[int] | None = None,
) -> Response:
    attempt = attempt_of(person, phase)
    window = test_window(event, settings_of(event), phase)
    sent = attempt is not None and attempt.submitted_at is not None
    chosen = answers_of(attempt)
    return _private(
        render(
            "evaluation/test.html",
            "evaluation/_saved.html" if request.method == "POST" else None,
            status=status,
            event=event,
            person=person,
            key=key,
            phase=phase,
            questions=questions,
            chosen=chosen,
            state=_state(window, sent, local_now(event)),
            window=window,
            attempt=attempt,
            score=percent(attempt.correct, attempt.total) if sent else None,
            score_value=percent(attempt.correct, attempt.total) if sent else None,
            earlier=_pre_score(person) if sent and phase is Phase.POST else None,
            unanswered=unanswered or [],
            saved=len(chosen),
            total=len(questions),
            letters=LETTERS,
            form=FlaskForm(),
        )
    )


def _pre_score(person: Registration):
    """The person's pre-test score, when sent (shown beside the post-test's)."""
    attempt = attempt_of(person, Phase.PRE)
    if attempt is None or attempt.submitted_at is None:
        return None
    return percent(attempt.correct, attempt.total)


def _refusal(message: str, back: str) -> Response:
    """An answer that cannot be taken: the message in the page's message area for htmx, else
    on the page itself after a redirect."""
    if is_partial():
        return error_response(422, None, message)
    flash(message, "error")
    return _private(redirect_after_post(back))


@bp.route("/e/<code>/tes/<key>/<any(pre, post):phase>", methods=["GET", "POST"])
def test(code: str, key: str, phase: str):
    """The questions with the person's saved choices; each change is kept, "Kirim" scores it."""
    event = get_public_event_or_404(code)
    person = _holder(event, key)
    here = url_for("evaluation.test", code=code, key=key, phase=phase)
    which = Phase(phase)
    questions = questions_of(event)
    if request.method == "GET":
        return _test_page(event, person, key, which, questions)
    if not FlaskForm().validate_on_submit():
        return error_response(400)
    window = test_window(event, settings_of(event), which)
    if not questions or window is None or not window.holds(local_now(event)):
        return _refusal(_("%(test)s tidak sedang dibuka.", test=which.label), here)
    try:
        attempt = save_answers(person, which, _chosen(questions), questions)
    except EvaluationError as error:
        return _refusal(str(error), here)
    action = request.form.get("aksi", "")
    if action not in ("kirim", "kirim_juga"):
        if is_partial():
            return _test_page(event, person, key, which, questions)
        flash(_("Jawaban tersimpan."), "success")
        return _private(redirect_after_post(here))
    chosen = answers_of(attempt)
    unanswered = [n for n, q in enumerate(questions, 1) if q.id not in chosen]
    if unanswered and action != "kirim_juga":
        return _test_page(event, person, key, which, questions, status=422, unanswered=unanswered)
    if submit_attempt(attempt, questions):
        flash(_("%(test)s terkirim. Terima kasih.", test=which.label), "success")
    return _private(redirect_after_post(here))


# --- the survey ---------------------------------------------------------------------------------


def _ratings() -> dict[str, int]:
    ratings = {}
    for element in ELEMENTS:
        raw = request.form.get(f"unsur_{element}", "")
        if len(raw) == 1 and raw in "0123456789" and int(raw) in RATINGS:
            ratings[element] = int(raw)
    return ratings


def _speaker_ratings() -> dict[int, int]:
    """``narasumber_<id>`` → a rating 1–4 (anything else left out)."""
    ratings = {}
    for name, raw in request.form.items():
        key = name.removeprefix("narasumber_")
        named = key != name and key.isascii() and key.isdigit() and len(key) < 10
        if named and len(raw) == 1 and raw in "1234":
            ratings[int(key)] = int(raw)
    return ratings


def _survey_page(
    event: Event,
    person: Registration,
    key: str,
    *,
    status: int = 200,
    missing: list[str] | None = None,
) -> Response:
    settings = settings_of(event)
    response = survey_response_of(person)
    sent = has_answered_survey(person)
    window = survey_window(event, settings) if settings.survey_on else None
    wording = settings.survey_questions or {}
    given = {e: getattr(response, e) for e in ELEMENTS} if response else {}
    speakers = (
        [(n, session, sp) for n, session in enumerate(event.sessions, 1) for sp in session.speakers]
        if settings.rate_speakers
        else []
    )
    rated = speaker_ratings_of(response) if response and speakers else {}
    return _private(
        render(
            "evaluation/survey.html",
            "evaluation/_saved.html" if request.method == "POST" else None,
            status=status,
            event=event,
            person=person,
            key=key,
            elements=[(e, wording.get(e.key) or e.question) for e in WORDED],
            given=given,
            speakers=speakers,
            rated=rated,
            saved=sum(1 for rating in given.values() if rating),
            total=len(ELEMENTS),
            comment=response.comment if response else "",
            state=_state(window, sent, local_now(event)),
            window=window,
            anonymous=settings.survey_anonymous,
            rating_labels=RATING_LABELS,
            missing=missing or [],
            form=FlaskForm(),
        )
    )


@bp.route("/e/<code>/tes/<key>/survei", methods=["GET", "POST"])
def survey(code: str, key: str):
    """The nine elements rated 1–4 and a comment; each change kept, "Kirim" sends it once."""
    event = get_public_event_or_404(code)
    person = _holder(event, key)
    here = url_for("evaluation.survey", code=code, key=key)
    if request.method == "GET":
        return _survey_page(event, person, key)
    if not FlaskForm().validate_on_submit():
        return error_response(400)
    settings = settings_of(event)
    window = survey_window(event, settings)
    if not settings.survey_on or window is None or not window.holds(local_now(event)):
        return _refusal(_("Survei tidak sedang dibuka."), here)
    comment = request.form.get("komentar")
    try:
        response = save_survey(person, _ratings(), comment, _speaker_ratings())
    except EvaluationError as error:
        return _refusal(str(error), here)
    if request.form.get("aksi") != "kirim":
        if is_partial():
            return _survey_page(event, person, key)
        flash(_("Jawaban tersimpan."), "success")
        return _private(redirect_after_post(here))
    missing = [str(n) for n, e in enumerate(WORDED, 1) if getattr(response, e.key) is None]
    if missing:
        return _survey_page(event, person, key, status=422, missing=missing)
    if submit_survey(person, response, settings.survey_anonymous):
        flash(_("Survei terkirim. Terima kasih atas penilaian Anda."), "success")
    return _private(redirect_after_post(here))
