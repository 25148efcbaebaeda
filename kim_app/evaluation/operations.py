"""Writes of a training's evaluation: the question set, the settings, each person's answers as
they are given, sending a test or the survey. They flush; the request commits.

A person's answers are saved one request at a time (each change, with JavaScript; each "Simpan"
without), so a connection lost half-way loses at most the answer being sent. Sending is a
conditional UPDATE, so a double tap or two phones at once score an attempt once."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask_babel import gettext as _

from kim_app import audit, jobs, signals
from kim_app.errors import OperationError
from kim_app.evaluation.models import (
    Answer,
    Attempt,
    EvaluationSettings,
    Material,
    Phase,
    Question,
    SpeakerRating,
    SurveyResponse,
    SurveyTaker,
)
from kim_app.evaluation.skm import ELEMENTS, RATINGS
from kim_app.events.models import Event, Registration, RegistrationStatus
from kim_app.events.operations import local_now
from kim_app.extensions import db
from kim_app.formatting import when
from kim_app.timezones import utcnow
from kim_app.uploads import (
    ImageError,
    ImageTooLarge,
    PdfRefused,
    check_pdf,
    reencode_image,
    sniff_type,
    upload_folder,
)

MAX_QUESTIONS = 50
MIN_CHOICES, MAX_CHOICES = 2, 6
COMMENT_MAX = 2000
# how long the survey stays open after the post-test closes
SURVEY_DAYS = 7


class EvaluationError(OperationError):
    """A test, survey or question change that cannot be done; the message is for the user."""


# --- settings and windows -----------------------------------------------------------------------


def settings_of(event: Event) -> EvaluationSettings:
    """The event's settings row, or the defaults (not added to the session) until one is saved."""
    found = db.session.get(EvaluationSettings, event.id)
    if found is not None:
        return found
    return EvaluationSettings(
        event_id=event.id,
        survey_on=True,
        survey_anonymous=True,
        survey_questions={},
        certificate_needs_post=False,
        rate_speakers=False,
    )


@dataclass(frozen=True)
class Window:
    opens: datetime  # local time of the event's zone
    closes: datetime

    def holds(self, now: datetime) -> bool:
        return self.opens <= now < self.closes


def default_window(event: Event, phase: Phase) -> Window | None:
    """The agenda's windows, which never overlap: the pre-test from an hour before the first
    session until an hour into it (or its end), the post-test from an hour before the last
    session ends (never before the pre-test closes) until a day after it. None for an event
    without sessions."""
    if not event.sessions:
        return None
    first, last = event.sessions[0], event.sessions[-1]
    pre = Window(
        first.starts_at - timedelta(hours=1),
        min(first.starts_at + timedelta(hours=1), first.ends_at),
    )
    if phase is Phase.PRE:
        return pre
    return Window(
        max(last.ends_at - timedelta(hours=1), pre.closes), last.ends_at + timedelta(days=1)
    )


def test_window(event: Event, settings: EvaluationSettings, phase: Phase) -> Window | None:
    """The operator's window where set, else the agenda's."""
    default = default_window(event, phase)
    opens = getattr(settings, f"{phase.value}_opens_at") or (default and default.opens)
    closes = getattr(settings, f"{phase.value}_closes_at") or (default and default.closes)
    if opens is None or closes is None:
        return None
    return Window(opens, closes)


def survey_window(event: Event, settings: EvaluationSettings) -> Window | None:
    """Open with the post-test, and for a week after it closes (people answer from home)."""
    post = test_window(event, settings, Phase.POST)
    if post is None:
        return None
    return Window(post.opens, post.closes + timedelta(days=SURVEY_DAYS))


@dataclass
class SettingsData:
    pre_opens_at: datetime | None
    pre_closes_at: datetime | None
    post_opens_at: datetime | None
    post_closes_at: datetime | None
    survey_on: bool
    survey_anonymous: bool
    certificate_needs_post: bool
    survey_questions: dict[str, str]
    rate_speakers: bool = False


def save_settings(event: Event, data: SettingsData, by) -> EvaluationSettings:
    """Keep the operator's settings; a survey's anonymity is fixed once anyone has answered it,
    since a promise made to the first respondents holds for the rest."""
    for phase in Phase:
        opens = getattr(data, f"{phase.value}_opens_at")
        closes = getattr(data, f"{phase.value}_closes_at")
        if opens and closes and closes <= opens:
            raise EvaluationError(
                _("Waktu tutup harus sesudah waktu buka."), f"{phase.value}_closes_at"
            )
    settings = settings_of(event)
    wanted = EvaluationSettings(
        **{
            f"{p.value}_{e}_at": getattr(data, f"{p.value}_{e}_at")
            for p in Phase
            for e in ("opens", "closes")
        }
    )
    pre, post = (test_window(event, wanted, phase) for phase in Phase)
    if pre and post and post.opens < pre.closes:
        # the post-test shows the right answers: open while the pre-test is, they would leak
        raise EvaluationError(
            _(
                "Post-test baru boleh dibuka sesudah pre-test ditutup (%(when)s).",
                when=when(pre.closes, event),
            ),
            "post_opens_at",
        )
    if settings.survey_anonymous != data.survey_anonymous and survey_started(event):
        raise EvaluationError(
            _("Survei sudah diisi peserta; sifat anonimnya tidak dapat diubah lagi."),
            "survey_anonymous",
        )
    before = _settings_values(settings)
    for name, value in vars(data).items():
        setattr(settings, name, value)
    db.session.add(settings)
    db.session.flush()
    after = _settings_values(settings)
    changed = sorted(name for name in after if after[name] != before[name])
    if changed:
        audit.record(
            "evaluation.settings",
            "event",
            event.id,
            region_code=event.region_code,
            changes={"fields": changed},
            actor=by,
        )
    return settings


def _settings_values(settings: EvaluationSettings) -> dict:
    return {
        name: getattr(settings, name)
        for name in (
            "pre_opens_at",
            "pre_closes_at",
            "post_opens_at",
            "post_closes_at",
            "survey_on",
            "survey_anonymous",
            "certificate_needs_post",
            "rate_speakers",
        )
    } | {"survey_questions": dict(settings.survey_questions or {})}


# --- the question set ---------------------------------------------------------------------------


@dataclass
class QuestionData:
    text: str
    choices: list[str]
    answer: int  # index into choices
    explanation: str = ""


def questions_of(event: Event) -> list[Question]:
    return list(
        db.session.scalars(
            sa.select(Question)
            .where(Question.event_id == event.id)
            .order_by(Question.position, Question.id)
        )
    )


def has_questions(event: Event) -> bool:
    """Whether the event has a test at all (one indexed lookup, not the question set)."""
    return (
        db.session.scalar(sa.select(Question.id).where(Question.event_id == event.id).limit(1))
        is not None
    )


def questions_locked(event: Event) -> bool:
    """Once anyone has begun a test, the set stays as they saw it: scores compare like with
    like."""
    return (
        db.session.scalar(sa.select(Attempt.id).where(Attempt.event_id == event.id).limit(1))
        is not None
    )


def check_question(data: QuestionData) -> None:
    """Two to six distinct choices and the right answer among the filled ones (the form and the
    import ask the same)."""
    choices = [c for c in data.choices if c]
    if not MIN_CHOICES <= len(choices) <= MAX_CHOICES:
        raise EvaluationError(
            _("Isi %(low)d sampai %(high)d pilihan jawaban.", low=MIN_CHOICES, high=MAX_CHOICES),
            "choices",
        )
    if len(set(choices)) != len(choices):
        raise EvaluationError(_("Dua pilihan jawaban sama."), "choices")
    if not 0 <= data.answer < len(data.choices) or not data.choices[data.answer]:
        raise EvaluationError(_("Pilih jawaban yang benar di antara pilihan yang diisi."), "answer")


def ensure_unlocked(event: Event) -> None:
    if questions_locked(event):
        raise EvaluationError(
            _("Peserta sudah mulai mengerjakan tes; soal tidak dapat diubah lagi.")
        )


def _check(event: Event, data: QuestionData) -> None:
    ensure_unlocked(event)
    check_question(data)


def compact(data: QuestionData) -> tuple[list[str], int]:
    """The filled choices in order, and the right answer's place among them."""
    right = data.choices[data.answer]
    choices = [c for c in data.choices if c]
    return choices, choices.index(right)


def add_question(event: Event, data: QuestionData, by) -> Question:
    _check(event, data)
    count = db.session.scalar(
        sa.select(sa.func.count()).select_from(Question).where(Question.event_id == event.id)
    )
    if count >= MAX_QUESTIONS:
        raise EvaluationError(_("Paling banyak %(n)d soal.", n=MAX_QUESTIONS))
    choices, answer = compact(data)
    last = db.session.scalar(
        sa.select(sa.func.max(Question.position)).where(Question.event_id == event.id)
    )
    question = Question(
        event_id=event.id,
        position=(last or 0) + 1,
        text=data.text,
        choices=choices,
        answer=answer,
        explanation=data.explanation,
    )
    db.session.add(question)
    db.session.flush()
    _audit("evaluation.question_add", event, question, by)
    return question


def update_question(event: Event, question: Question, data: QuestionData, by) -> None:
    _check(event, data)
    question.choices, question.answer = compact(data)
    question.text = data.text
    question.explanation = data.explanation
    db.session.flush()
    _audit("evaluation.question_edit", event, question, by)


def delete_question(event: Event, question: Question, by) -> None:
    ensure_unlocked(event)
    _audit("evaluation.question_delete", event, question, by)
    db.session.delete(question)
    db.session.flush()


def _audit(action: str, event: Event, question: Question, by) -> None:
    audit.record(
        action,
        "event",
        event.id,
        region_code=event.region_code,
        changes={"question": question.id},
        actor=by,
    )


def copy_evaluation(source: Event, copy: Event) -> None:
    """A cloned event takes the question set and the survey's wording (not the windows: its
    agenda is new)."""
    for question in questions_of(source):
        db.session.add(
            Question(
                event_id=copy.id,
                position=question.position,
                text=question.text,
                choices=list(question.choices),
                answer=question.answer,
                explanation=question.explanation,
            )
        )
    settings = db.session.get(EvaluationSettings, source.id)
    if settings is not None:
        db.session.add(
            EvaluationSettings(
                event_id=copy.id,
                survey_on=settings.survey_on,
                survey_anonymous=settings.survey_anonymous,
                survey_questions=dict(settings.survey_questions or {}),
                certificate_needs_post=settings.certificate_needs_post,
                rate_speakers=settings.rate_speakers,
            )
        )
    db.session.flush()


@signals.event_cloned.connect
def _on_clone(copy: Event, source: Event, **_kw) -> None:
    copy_evaluation(source, copy)


@signals.certificate_requirements.connect
def _post_test_required(event: Event, **_kw) -> signals.Requirement:
    """When the operator asks for it, a certificate waits for the person's post-test. The
    condition reads the setting itself, so issuing stays one query."""
    asked = sa.select(EvaluationSettings.event_id).where(
        EvaluationSettings.event_id == event.id, EvaluationSettings.certificate_needs_post
    )
    sent = sa.select(Attempt.registration_id).where(
        Attempt.event_id == event.id,
        Attempt.phase == Phase.POST,
        Attempt.submitted_at.is_not(None),
    )
    return signals.Requirement(
        sa.or_(~asked.exists(), Registration.id.in_(sent)),
        lambda: (
            _("Peserta juga harus sudah mengirim post-test.")
            if settings_of(event).certificate_needs_post
            else ""
        ),
    )


# --- a person's test ----------------------------------------------------------------------------


def attempt_of(registration: Registration, phase: Phase) -> Attempt | None:
    return db.session.scalar(
        sa.select(Attempt).where(Attempt.registration_id == registration.id, Attempt.phase == phase)
    )


def answers_of(attempt: Attempt | None) -> dict[int, int]:
    """Question id → the chosen choice's index."""
    if attempt is None:
        return {}
    return dict(
        db.session.execute(
            sa.select(Answer.question_id, Answer.choice).where(Answer.attempt_id == attempt.id)
        ).all()
    )


def may_take(registration: Registration) -> None:
    if registration.status is not RegistrationStatus.TERDAFTAR or registration.erased_at:
        raise EvaluationError(_("Hanya peserta terdaftar yang dapat mengisi tes dan survei."))


def _open_attempt(registration: Registration, phase: Phase) -> Attempt:
    """The person's attempt, begun now if it was not; two first answers at once make one."""
    attempt = attempt_of(registration, phase)
    if attempt is not None:
        return attempt
    try:
        with db.session.begin_nested():
            attempt = Attempt(
                event_id=registration.event_id, registration_id=registration.id, phase=phase
            )
            db.session.add(attempt)
    except sa.exc.IntegrityError:
        attempt = attempt_of(registration, phase)
    return attempt


def save_answers(
    registration: Registration, phase: Phase, chosen: Mapping[int, int], questions: list[Question]
) -> Attempt:
    """Keep the choices made so far (question id → choice index; others are ignored). An
    attempt already sent is not changed."""
    may_take(registration)
    attempt = _open_attempt(registration, phase)
    if attempt.submitted_at is not None:
        raise EvaluationError(_("Jawaban %(test)s Anda sudah dikirim.", test=phase.label))
    valid = {
        q.id: choice
        for q in questions
        if (choice := chosen.get(q.id)) is not None and 0 <= choice < len(q.choices)
    }
    if not valid:
        return attempt
    now = utcnow()
    table = Answer.__table__
    # one statement per dialect that writes a new choice or changes an old one
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(
        [
            {"attempt_id": attempt.id, "question_id": qid, "choice": choice, "answered_at": now}
            for qid, choice in valid.items()
        ]
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["attempt_id", "question_id"],
            set_={"choice": statement.excluded.choice, "answered_at": now},
        )
    )
    return attempt


def submit_attempt(attempt: Attempt, questions: list[Question]) -> bool:
    """Score and close the attempt; False when it was already sent (a second tap)."""
    chosen = answers_of(attempt)
    correct = sum(1 for q in questions if chosen.get(q.id) == q.answer)
    done = db.session.execute(
        sa.update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.submitted_at.is_(None))
        .values(submitted_at=utcnow(), correct=correct, total=len(questions))
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(attempt)
    return bool(done)


# --- a person's survey --------------------------------------------------------------------------


def has_answered_survey(registration: Registration) -> bool:
    return db.session.get(SurveyTaker, registration.id) is not None


def survey_response_of(registration: Registration) -> SurveyResponse | None:
    return db.session.scalar(
        sa.select(SurveyResponse).where(
            SurveyResponse.event_id == registration.event_id,
            SurveyResponse.registration_id == registration.id,
        )
    )


def survey_started(event: Event) -> bool:
    return (
        db.session.scalar(
            sa.select(SurveyResponse.id).where(SurveyResponse.event_id == event.id).limit(1)
        )
        is not None
    )


def save_survey(
    registration: Registration,
    ratings: Mapping[str, int | None],
    comment: str | None,
    speakers: Mapping[int, int] | None = None,
) -> SurveyResponse:
    """Keep the ratings given so far (and the comment, when sent along); ``speakers`` rates the
    event's speakers by id (others are ignored)."""
    may_take(registration)
    if has_answered_survey(registration):
        raise EvaluationError(_("Survei Anda sudah dikirim. Terima kasih."))
    response = survey_response_of(registration)
    if response is None:
        try:
            with db.session.begin_nested():
                response = SurveyResponse(
                    event_id=registration.event_id, registration_id=registration.id
                )
                db.session.add(response)
        except sa.exc.IntegrityError:
            response = survey_response_of(registration)
    for element in ELEMENTS:
        rating = ratings.get(element)
        if rating in RATINGS:
            setattr(response, element, rating)
    if comment is not None:
        response.comment = comment[:COMMENT_MAX]
    db.session.flush()
    if speakers:
        _rate_speakers(registration, response, speakers)
    return response


def speaker_ratings_of(response: SurveyResponse) -> dict[int, int]:
    """Speaker id → the rating this response gave."""
    return dict(
        db.session.execute(
            sa.select(SpeakerRating.speaker_id, SpeakerRating.rating).where(
                SpeakerRating.response_id == response.id
            )
        ).all()
    )


def _rate_speakers(
    registration: Registration, response: SurveyResponse, speakers: Mapping[int, int]
) -> None:
    known = {sp.id for session in registration.event.sessions for sp in session.speakers}
    kept = {
        r.speaker_id: r
        for r in db.session.scalars(
            sa.select(SpeakerRating).where(SpeakerRating.response_id == response.id)
        )
    }
    for speaker_id, rating in speakers.items():
        if speaker_id not in known or rating not in RATINGS:
            continue
        if speaker_id in kept:
            kept[speaker_id].rating = rating
        else:
            db.session.add(
                SpeakerRating(response_id=response.id, speaker_id=speaker_id, rating=rating)
            )
    db.session.flush()


def submit_survey(registration: Registration, response: SurveyResponse, anonymous: bool) -> bool:
    """Send the survey once; an anonymous one leaves only the note that the person answered.
    False when it was already sent."""
    try:
        with db.session.begin_nested():
            db.session.add(
                SurveyTaker(registration_id=registration.id, event_id=registration.event_id)
            )
    except sa.exc.IntegrityError:
        return False
    response.submitted_at = utcnow().replace(minute=0, second=0, microsecond=0)
    if anonymous:
        response.registration_id = None
    db.session.flush()
    return True


# --- materials ----------------------------------------------------------------------------------

MATERIAL_MAX_BYTES = 5 * 1024 * 1024
MAX_MATERIALS = 30
MATERIAL_FOLDER = "materi"
MATERIAL_SUFFIXES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


@dataclass
class MaterialData:
    title: str
    session_id: int | None
    public: bool
    from_start: bool


def _clean_material(data: bytes) -> tuple[bytes, str]:
    """The file as it will be kept: a PDF checked as the SK is, an image re-encoded without its
    metadata (location, device); anything else refused."""
    if not data:
        raise EvaluationError(_("Pilih berkas materi terlebih dahulu."), "berkas")
    if len(data) > MATERIAL_MAX_BYTES:
        raise EvaluationError(_("Berkas materi paling besar 5 MB."), "berkas")
    mime = sniff_type(data[:16])
    if mime is None:
        raise EvaluationError(
            _("Materi harus berupa PDF, JPEG atau PNG. Simpan salindia sebagai PDF dulu."),
            "berkas",
        )
    if mime == "application/pdf":
        try:
            check_pdf(data)
        except PdfRefused as error:
            raise EvaluationError(str(error), "berkas") from None
        return data, mime
    try:
        return reencode_image(data, mime)[0], mime
    except ImageTooLarge as error:
        raise EvaluationError(str(error), "berkas") from None
    except ImageError:
        raise EvaluationError(
            _("Gambar tidak dapat dibaca. Unggah ulang sebagai PDF, JPEG atau PNG."), "berkas"
        ) from None


def add_material(event: Event, data: bytes, details: MaterialData, by) -> Material:
    """Check, clean and keep a file for the event's participants; audited."""
    if details.session_id is not None and details.session_id not in {s.id for s in event.sessions}:
        raise EvaluationError(_("Pilihan tidak valid."), "session_id")
    count = db.session.scalar(
        sa.select(sa.func.count()).select_from(Material).where(Material.event_id == event.id)
    )
    if count >= MAX_MATERIALS:
        raise EvaluationError(_("Paling banyak %(n)d materi.", n=MAX_MATERIALS))
    cleaned, mime = _clean_material(data)
    name = secrets.token_hex(16) + MATERIAL_SUFFIXES[mime]
    (upload_folder(MATERIAL_FOLDER) / name).write_bytes(cleaned)
    material = Material(
        event_id=event.id,
        session_id=details.session_id,
        title=details.title,
        file=name,
        mime=mime,
        size=len(cleaned),
        public=details.public,
        from_start=details.from_start,
    )
    db.session.add(material)
    db.session.flush()
    audit.record(
        "evaluation.material_add",
        "event",
        event.id,
        region_code=event.region_code,
        changes={"material": material.id, "type": mime, "size": len(cleaned)},
        actor=by,
    )
    return material


def delete_material(event: Event, material: Material, by) -> None:
    audit.record(
        "evaluation.material_delete",
        "event",
        event.id,
        region_code=event.region_code,
        changes={"material": material.id},
        actor=by,
    )
    path = material_path(material)
    db.session.delete(material)
    db.session.flush()
    if path is not None:
        path.unlink(missing_ok=True)


def material_path(material: Material) -> Path | None:
    path = upload_folder(MATERIAL_FOLDER) / Path(material.file).name
    return path if path.is_file() else None


def materials_of(event: Event) -> list[Material]:
    return list(
        db.session.scalars(
            sa.select(Material).where(Material.event_id == event.id).order_by(Material.id)
        )
    )


def released(event: Event, material: Material, now: datetime) -> bool:
    """Whether participants may have it now: at once, or once its session (or the event's
    first) has started."""
    if not material.from_start:
        return True
    session = next((s for s in event.sessions if s.id == material.session_id), None)
    session = session or (event.sessions[0] if event.sessions else None)
    return session is None or session.starts_at <= now


def shared_materials(event: Event, now: datetime, *, public_only: bool) -> list[Material]:
    """What participants (or, with ``public_only``, anyone) may download now."""
    return [
        m for m in materials_of(event) if (m.public or not public_only) and released(event, m, now)
    ]


# --- tests left open at closing time ------------------------------------------------------------

CLOSE_JOB = "evaluasi-tutup"


def send_closed_attempts() -> int:
    """Attempts still unsent when their test closed are sent as saved, scored on the answers
    kept — as a paper test is collected at the bell. The worker runs this once a minute; one
    UPDATE per event and test whatever the number of people. Returns how many were sent."""
    pending = db.session.execute(
        sa.select(Attempt.event_id, Attempt.phase).where(Attempt.submitted_at.is_(None)).distinct()
    ).all()
    sent = 0
    for event_id, phase in pending:
        event = db.session.get(Event, event_id)
        window = test_window(event, settings_of(event), phase)
        if window is None or local_now(event) < window.closes:
            continue
        right = (
            sa.select(sa.func.count())
            .select_from(Answer)
            .join(Question, Question.id == Answer.question_id)
            .where(Answer.attempt_id == Attempt.id, Answer.choice == Question.answer)
            .scalar_subquery()
        )
        total = db.session.scalar(
            sa.select(sa.func.count()).select_from(Question).where(Question.event_id == event_id)
        )
        sent += db.session.execute(
            sa.update(Attempt)
            .where(
                Attempt.event_id == event_id,
                Attempt.phase == phase,
                Attempt.submitted_at.is_(None),
            )
            .values(submitted_at=utcnow(), correct=right, total=total)
            .execution_options(synchronize_session=False)
        ).rowcount
    db.session.commit()
    return sent


@jobs.periodic(CLOSE_JOB)
def send_closed_attempts_job() -> None:
    send_closed_attempts()
