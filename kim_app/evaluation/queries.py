"""Reads of a training's evaluation: each person's pre- and post-test score, the group's averages
and gain, the questions most got wrong, and the satisfaction index. Averages are exact
fractions of the stored counts, so a hand computation of the same answers gives the same
figures; the pages round them to one decimal."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from kim_app.evaluation.models import (
    Answer,
    Attempt,
    Phase,
    Question,
    SpeakerRating,
    SurveyResponse,
)
from kim_app.evaluation.skm import ELEMENTS, Index, index_of_tallies, skm_index
from kim_app.events.models import Event, Registration
from kim_app.extensions import db
from kim_app.pagination import Page, clamped

PER_PAGE = 50


def percent(correct: int | None, total: int | None) -> Fraction | None:
    """A score out of 100; None for a test not sent (or without questions)."""
    if correct is None or not total:
        return None
    return Fraction(100 * correct, total)


@dataclass(frozen=True)
class PersonScore:
    registration_id: int
    name: str
    institution: str
    pre: Fraction | None
    post: Fraction | None

    @property
    def gain(self) -> Fraction | None:
        return None if self.pre is None or self.post is None else self.post - self.pre


def _mean(values: list[Fraction]) -> Fraction | None:
    return sum(values, Fraction(0)) / len(values) if values else None


@dataclass(frozen=True)
class Summary:
    pre_count: int  # tests sent
    post_count: int
    pre_average: Fraction | None
    post_average: Fraction | None
    both: int  # people who sent both
    gain_average: Fraction | None


def _scores_statement(event: Event):
    pre, post = aliased(Attempt), aliased(Attempt)
    sent = {
        pre: sa.and_(pre.phase == Phase.PRE, pre.submitted_at.is_not(None)),
        post: sa.and_(post.phase == Phase.POST, post.submitted_at.is_not(None)),
    }
    return (
        sa.select(
            Registration.id,
            Registration.name,
            Registration.institution,
            pre.correct,
            pre.total,
            post.correct,
            post.total,
        )
        .outerjoin(pre, sa.and_(pre.registration_id == Registration.id, sent[pre]))
        .outerjoin(post, sa.and_(post.registration_id == Registration.id, sent[post]))
        .where(
            Registration.event_id == event.id,
            sa.or_(pre.id.is_not(None), post.id.is_not(None)),
        )
    )


def _person(row) -> PersonScore:
    return PersonScore(row[0], row[1], row[2], percent(row[3], row[4]), percent(row[5], row[6]))


def scores(event: Event, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of the people who sent a test, by name."""
    statement = _scores_statement(event)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    page = clamped(page, total, per_page)
    rows = db.session.execute(
        statement.order_by(Registration.name, Registration.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page([_person(row) for row in rows], total, page, per_page)


def all_scores(event: Event) -> list[PersonScore]:
    """Everyone who sent a test (the export, the laporan)."""
    statement = _scores_statement(event).order_by(Registration.name, Registration.id)
    return [_person(row) for row in db.session.execute(statement)]


def summary(event: Event) -> Summary:
    """The group's averages, from the sums of the stored counts (one query, any size)."""
    rows = db.session.execute(
        sa.select(Attempt.registration_id, Attempt.phase, Attempt.correct, Attempt.total).where(
            Attempt.event_id == event.id, Attempt.submitted_at.is_not(None)
        )
    ).all()
    by_phase: dict[Phase, dict[int, Fraction]] = {Phase.PRE: {}, Phase.POST: {}}
    for registration_id, phase, correct, total in rows:
        score = percent(correct, total)
        if score is not None:
            by_phase[phase][registration_id] = score
    pre, post = by_phase[Phase.PRE], by_phase[Phase.POST]
    both = pre.keys() & post.keys()
    return Summary(
        pre_count=len(pre),
        post_count=len(post),
        pre_average=_mean(list(pre.values())),
        post_average=_mean(list(post.values())),
        both=len(both),
        gain_average=_mean([post[r] - pre[r] for r in both]),
    )


@dataclass(frozen=True)
class QuestionTally:
    question: Question
    pre_wrong: int
    post_wrong: int
    post_sent: int


def missed(event: Event, questions: list[Question]) -> list[QuestionTally]:
    """Each question with how many sent tests got it wrong (or left it), most missed first."""
    sent = dict(
        db.session.execute(
            sa.select(Attempt.phase, sa.func.count())
            .where(Attempt.event_id == event.id, Attempt.submitted_at.is_not(None))
            .group_by(Attempt.phase)
        ).all()
    )
    right = {
        (question_id, phase): count
        for question_id, phase, count in db.session.execute(
            sa.select(Answer.question_id, Attempt.phase, sa.func.count())
            .join(Attempt, Attempt.id == Answer.attempt_id)
            .join(Question, Question.id == Answer.question_id)
            .where(
                Attempt.event_id == event.id,
                Attempt.submitted_at.is_not(None),
                Answer.choice == Question.answer,
            )
            .group_by(Answer.question_id, Attempt.phase)
        )
    }
    tallies = [
        QuestionTally(
            q,
            sent.get(Phase.PRE, 0) - right.get((q.id, Phase.PRE), 0),
            sent.get(Phase.POST, 0) - right.get((q.id, Phase.POST), 0),
            sent.get(Phase.POST, 0),
        )
        for q in questions
    ]
    return sorted(tallies, key=lambda t: (-t.post_wrong, -t.pre_wrong, t.question.position))


@dataclass(frozen=True)
class SurveyResult:
    sent: int
    index: Index | None
    comments: list[str]


def survey_result(event: Event) -> SurveyResult:
    """The index of the sent responses and their comments (never who wrote them)."""
    columns = [getattr(SurveyResponse, element) for element in ELEMENTS]
    rows = db.session.execute(
        sa.select(*columns, SurveyResponse.comment)
        .where(SurveyResponse.event_id == event.id, SurveyResponse.submitted_at.is_not(None))
        .order_by(SurveyResponse.id)
    ).all()
    answers = [dict(zip(ELEMENTS, row[: len(ELEMENTS)], strict=True)) for row in rows]
    comments = [row[-1].strip() for row in rows if row[-1] and row[-1].strip()]
    return SurveyResult(len(rows), skm_index(answers), comments)


@dataclass(frozen=True)
class SpeakerScore:
    name: str
    topic: str
    session: int  # its number in the agenda
    ratings: int
    average: Fraction


def speaker_scores(event: Event) -> list[SpeakerScore]:
    """Each rated speaker's average (1–4) over the surveys sent, in the agenda's order."""
    rows = db.session.execute(
        sa.select(SpeakerRating.speaker_id, sa.func.count(), sa.func.sum(SpeakerRating.rating))
        .join(SurveyResponse, SurveyResponse.id == SpeakerRating.response_id)
        .where(SurveyResponse.event_id == event.id, SurveyResponse.submitted_at.is_not(None))
        .group_by(SpeakerRating.speaker_id)
    ).all()
    tallies = {speaker_id: (n, total) for speaker_id, n, total in rows}
    return [
        SpeakerScore(sp.name, s.topic, number, *_average(tallies[sp.id]))
        for number, s in enumerate(event.sessions, 1)
        for sp in s.speakers
        if sp.id in tallies
    ]


def _average(tally: tuple[int, int]) -> tuple[int, Fraction]:
    n, total = tally
    return n, Fraction(int(total), n)


@dataclass(frozen=True)
class Findings:
    """What the laporan's Evaluasi section states: the tests' averages with each person's
    scores, the satisfaction index with each element's average, and the comments."""

    summary: Summary
    people: list[PersonScore]
    survey: SurveyResult
    speakers: list[SpeakerScore]


def findings(event: Event) -> Findings | None:
    """The event's evaluation for the laporan; None when nobody has sent a test or a survey."""
    tests, survey = summary(event), survey_result(event)
    if not (tests.pre_count or tests.post_count or survey.sent):
        return None
    people = all_scores(event) if tests.pre_count or tests.post_count else []
    return Findings(tests, people, survey, speaker_scores(event) if survey.sent else [])


@dataclass(frozen=True)
class KindFigures:
    """The evaluation of one kind of event over a period: the average gain of the people who
    sent both tests, and the satisfaction index of every response sent."""

    kind: object  # EventKind
    tested: int
    gain: float | None
    respondents: int
    index: Index | None


def kind_statements(counted: list) -> tuple[sa.Select, sa.Select]:
    """The two statements of ``by_kind`` for the events meeting ``counted`` (conditions on
    ``Event``): each starts from the evaluation's own rows and joins their events, so a period
    without tests costs next to nothing. Built once per kind of area by the caller."""
    pre, post = aliased(Attempt), aliased(Attempt)
    gain = 100.0 * post.correct / post.total - 100.0 * pre.correct / pre.total
    gains = (
        sa.select(Event.kind, sa.func.count(), sa.func.avg(gain))
        .select_from(post)
        .join(pre, sa.and_(pre.registration_id == post.registration_id, pre.phase == Phase.PRE))
        .join(Event, Event.id == post.event_id)
        .where(
            post.phase == Phase.POST,
            post.submitted_at.is_not(None),
            pre.submitted_at.is_not(None),
            post.total > 0,
            pre.total > 0,
            *counted,
        )
        .group_by(Event.kind)
    )
    columns = [getattr(SurveyResponse, element) for element in ELEMENTS]
    surveys = (
        sa.select(
            Event.kind,
            sa.func.count(),
            *(sa.func.coalesce(sa.func.sum(c), 0) for c in columns),
            *(sa.func.count(c) for c in columns),
        )
        .select_from(SurveyResponse)
        .join(Event, Event.id == SurveyResponse.event_id)
        .where(SurveyResponse.submitted_at.is_not(None), *counted)
        .group_by(Event.kind)
    )
    return gains, surveys


def by_kind(statements: tuple[sa.Select, sa.Select], params: dict) -> list[KindFigures]:
    """The average gain and the satisfaction index by kind of event (``kind_statements``,
    executed with ``params``)."""
    gain_statement, survey_statement = statements
    gains = {kind: (n, mean) for kind, n, mean in db.session.execute(gain_statement, params)}
    surveys = {}
    for row in db.session.execute(survey_statement, params):
        kind, respondents = row[0], row[1]
        sums = dict(zip(ELEMENTS, row[2 : 2 + len(ELEMENTS)], strict=True))
        counts = dict(zip(ELEMENTS, row[2 + len(ELEMENTS) :], strict=True))
        surveys[kind] = (respondents, index_of_tallies(sums, counts, respondents))
    kinds = sorted(gains.keys() | surveys.keys(), key=lambda k: list(type(k)).index(k))
    return [
        KindFigures(
            kind,
            gains.get(kind, (0, None))[0],
            None if gains.get(kind, (0, None))[1] is None else float(gains[kind][1]),
            surveys.get(kind, (0, None))[0],
            surveys.get(kind, (0, None))[1],
        )
        for kind in kinds
    ]
