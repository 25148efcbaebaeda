"""What a training's evaluation keeps (issue 25): the question set of its pre- and post-test, each
person's attempt and answers, the satisfaction survey's responses, and the settings that open
them. Each answer is stored as it is given, so a dropped connection loses nothing."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kim_app.events.models import Registration
from kim_app.extensions import db
from kim_app.labels import LabelledEnum, enum_type, set_labels
from kim_app.timezones import utcnow


class Phase(LabelledEnum):
    PRE = "pre"
    POST = "post"


set_labels(Phase, {Phase.PRE: _l("Pre-test"), Phase.POST: _l("Post-test")})


class EvaluationSettings(db.Model):
    """One row per event, once the operator saves a setting; until then the defaults hold.

    A window left empty follows the agenda (``operations.default_window``); the post-test never
    opens before the pre-test closes, and the survey opens with the post-test and closes a week
    after it. Times are local to the event's zone, like its sessions."""

    __tablename__ = "evaluation_settings"

    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    pre_opens_at: Mapped[datetime | None]
    pre_closes_at: Mapped[datetime | None]
    post_opens_at: Mapped[datetime | None]
    post_closes_at: Mapped[datetime | None]
    survey_on: Mapped[bool] = mapped_column(default=True)
    # anonymous: once sent, a response keeps no link to its person (only that they answered)
    survey_anonymous: Mapped[bool] = mapped_column(default=True)
    # the operator's own wording of the survey's questions: element key → question
    survey_questions: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # certificates only for those who sent the post-test
    certificate_needs_post: Mapped[bool] = mapped_column(default=False)
    # the survey also asks for a rating of each speaker (narasumber)
    rate_speakers: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Question(db.Model):
    """A multiple-choice question with one right answer; the pre- and post-test ask the same set,
    so the gain is measured on the same ground."""

    __tablename__ = "evaluation_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    text: Mapped[str] = mapped_column(sa.String(500))
    choices: Mapped[list] = mapped_column(sa.JSON)  # 2–6 strings
    answer: Mapped[int]  # index into choices
    explanation: Mapped[str] = mapped_column(sa.Text, default="")


class Attempt(db.Model):
    """One person's pre- or post-test: one attempt each, scored when sent."""

    __tablename__ = "test_attempts"
    __table_args__ = (sa.UniqueConstraint("registration_id", "phase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="CASCADE")
    )
    phase: Mapped[Phase] = mapped_column(enum_type(Phase, 4))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    correct: Mapped[int | None]  # right answers, counted when sent
    total: Mapped[int | None]  # questions asked then

    registration: Mapped[Registration] = relationship()


class Answer(db.Model):
    """The choice a person made for one question, kept (and changed) until the attempt is sent."""

    __tablename__ = "test_answers"

    attempt_id: Mapped[int] = mapped_column(
        sa.ForeignKey("test_attempts.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("evaluation_questions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    choice: Mapped[int]
    answered_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SurveyResponse(db.Model):
    """One person's satisfaction survey: the nine elements rated 1–4 and a comment.

    While it is being filled it belongs to its registration; an anonymous survey's response
    drops that link when sent, and a ``SurveyTaker`` row alone says the person has answered."""

    __tablename__ = "survey_responses"
    __table_args__ = (sa.UniqueConstraint("event_id", "registration_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    registration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="SET NULL")
    )
    persyaratan: Mapped[int | None] = mapped_column(sa.SmallInteger)
    prosedur: Mapped[int | None] = mapped_column(sa.SmallInteger)
    waktu: Mapped[int | None] = mapped_column(sa.SmallInteger)
    biaya: Mapped[int | None] = mapped_column(sa.SmallInteger)
    produk: Mapped[int | None] = mapped_column(sa.SmallInteger)
    kompetensi: Mapped[int | None] = mapped_column(sa.SmallInteger)
    perilaku: Mapped[int | None] = mapped_column(sa.SmallInteger)
    pengaduan: Mapped[int | None] = mapped_column(sa.SmallInteger)
    sarana: Mapped[int | None] = mapped_column(sa.SmallInteger)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    submitted_at: Mapped[datetime | None]


class SpeakerRating(db.Model):
    """A respondent's rating (1–4) of one speaker, part of their survey response (and as
    anonymous as it)."""

    __tablename__ = "speaker_ratings"

    response_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_responses.id", ondelete="CASCADE"), primary_key=True
    )
    speaker_id: Mapped[int] = mapped_column(
        sa.ForeignKey("event_speakers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    rating: Mapped[int] = mapped_column(sa.SmallInteger)


class SurveyTaker(db.Model):
    """That a registration has sent the event's survey, without saying which response is its."""

    __tablename__ = "survey_takers"

    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )


class Material(db.Model):
    """A file handed to participants (slides as PDF, a module, a picture): checked or
    re-encoded on upload as the SK is, kept under a random name. Shown on the ticket page, and
    on the public page when ``public``; with ``from_start``, only once its session (or the
    event's first) has started."""

    __tablename__ = "materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    # a session taken off the agenda leaves its files to the whole event
    session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("event_sessions.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(sa.String(200))
    file: Mapped[str] = mapped_column(sa.String(40))
    mime: Mapped[str] = mapped_column(sa.String(40))
    size: Mapped[int]
    public: Mapped[bool] = mapped_column(default=False)
    from_start: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
