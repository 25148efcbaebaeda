"""A test's questions from a simple XLSX or CSV layout, one question a row: the question, its
choices A–F (two or more), the right answer (a letter, a number 1–6 or the choice's own text)
and an explanation. A question the event already has, word for word, takes the file's choices,
answer and explanation (an answer key corrected in the file is corrected here), so the same file
may be imported twice. The pipeline around it is ``kim_app.importing``."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kim_app import audit
from kim_app.evaluation.models import Question
from kim_app.evaluation.operations import (
    MAX_CHOICES,
    MAX_QUESTIONS,
    EvaluationError,
    QuestionData,
    check_question,
    compact,
    ensure_unlocked,
    questions_locked,
)
from kim_app.events.models import Event
from kim_app.extensions import db
from kim_app.importing import Action, Importer, Plan, Row, RowPlan, Target
from kim_app.importing.values import checked_length, shown

LETTERS = "ABCDEF"
TARGETS = (
    Target("text", _l("Soal"), True),
    *(
        Target(f"choice_{letter.lower()}", _l("Pilihan %(letter)s", letter=letter), n < 2)
        for n, letter in enumerate(LETTERS[:MAX_CHOICES])
    ),
    Target("answer", _l("Jawaban benar"), True),
    Target("explanation", _l("Penjelasan (boleh kosong)")),
)
# an example file's header row, in the order of TARGETS
HEADERS = ["Soal", *(f"Pilihan {letter}" for letter in LETTERS), "Jawaban benar", "Penjelasan"]


def _target(words: set[str]) -> str | None:
    if words & {"jawaban", "kunci", "answer", "benar", "key"}:
        return "answer"
    if words & {"penjelasan", "pembahasan", "explanation", "keterangan"}:
        return "explanation"
    letters = {w for w in words if len(w) == 1 and w.upper() in LETTERS}
    if len(letters) == 1 and (words <= letters | {"pilihan", "opsi", "option", "choice"}):
        return f"choice_{letters.pop()}"
    if words & {"soal", "pertanyaan", "question", "butir"}:
        return "text"
    return None


def _answer_index(raw: str, choices: list[str]) -> int | None:
    """The column index the answer names: a letter A–F, a number 1–6, or a choice's text."""
    text = raw.strip()
    if len(text) == 1 and text.upper() in LETTERS:
        return LETTERS.index(text.upper())
    if text in {str(n) for n in range(1, MAX_CHOICES + 1)}:
        return int(text) - 1
    for index, choice in enumerate(choices):
        if choice and choice.casefold() == text.casefold():
            return index
    return None


@dataclass
class QuestionRowPlan(RowPlan):
    data: QuestionData | None = None
    found: Question | None = None  # the event's question of the same text


def plan_questions(event: Event, rows: list[Row]) -> list[QuestionRowPlan]:
    """Every row checked as the question form checks it; one query for what the event has."""
    locked = questions_locked(event)
    have = {
        q.text: q
        for q in db.session.scalars(sa.select(Question).where(Question.event_id == event.id))
    }
    room = MAX_QUESTIONS - len(have)
    seen: dict[str, int] = {}
    plans = []
    for row in rows:
        plan = QuestionRowPlan(line=row.line, label=shown(row["text"], 60))
        errors = plan.errors
        text = checked_length(row["text"], 500, _("Soal"), errors)
        if not text:
            errors.append(_("Soal kosong."))
        choices = [
            checked_length(
                row[f"choice_{letter.lower()}"], 300, _("Pilihan %(letter)s", letter=letter), errors
            )
            for letter in LETTERS[:MAX_CHOICES]
        ]
        answer = _answer_index(row["answer"], choices)
        if answer is None:
            errors.append(
                _(
                    "Jawaban benar tidak dikenal: %(text)s (tulis huruf A–F).",
                    text=shown(row["answer"]),
                )
            )
        explanation = checked_length(row["explanation"], 1000, _("Penjelasan"), errors)
        if locked:
            errors.append(_("Peserta sudah mulai mengerjakan tes; soal tidak dapat diubah lagi."))
        if not errors:
            plan.data = QuestionData(text, choices, answer, explanation)
            try:
                check_question(plan.data)
            except EvaluationError as error:
                errors.append(str(error))
        if not errors and text in seen:
            errors.append(_("Soal sama dengan baris %(line)d.", line=seen[text]))
        seen.setdefault(text, row.line)
        if errors:
            plans.append(plan)
            continue
        filled, right = compact(plan.data)
        plan.place = " · ".join([*filled, _("jawaban benar: %(letter)s", letter=LETTERS[right])])
        if text in have:
            plan.found = have[text]
            same = (filled, right, explanation) == (
                plan.found.choices,
                plan.found.answer,
                plan.found.explanation,
            )
            plan.action = Action.SAME if same else Action.UPDATE
        elif room <= 0:
            errors.append(_("Paling banyak %(n)d soal.", n=MAX_QUESTIONS))
        else:
            room -= 1
            plan.action = Action.NEW
        plans.append(plan)
    return plans


@dataclass
class QuestionImport:
    created: int
    updated: int
    unchanged: int
    skipped: int


def apply_questions(event: Event, plan: Plan, user, filename: str) -> QuestionImport:
    """Add the new questions after the event's last; audited once."""
    ensure_unlocked(event)
    last = db.session.scalar(
        sa.select(sa.func.max(Question.position)).where(Question.event_id == event.id)
    )
    new = [row for row in plan.valid if row.action is Action.NEW]
    changed = [row for row in plan.valid if row.action is Action.UPDATE]
    for row in changed:  # a corrected answer key, choice or explanation
        row.found.choices, row.found.answer = compact(row.data)
        row.found.explanation = row.data.explanation
    for position, row in enumerate(new, start=(last or 0) + 1):
        choices, answer = compact(row.data)
        db.session.add(
            Question(
                event_id=event.id,
                position=position,
                text=row.data.text,
                choices=choices,
                answer=answer,
                explanation=row.data.explanation,
            )
        )
    db.session.flush()
    result = QuestionImport(len(new), len(changed), plan.count(Action.SAME), len(plan.invalid))
    audit.record(
        "evaluation.question_import",
        "event",
        event.id,
        region_code=event.region_code,
        changes={"file": filename[:100], **asdict(result)},
        actor=user,
    )
    return result


class QuestionImporter(Importer):
    """The questions of one event's test (``event`` is None only where no row is checked)."""

    kind = "soal"
    label = _l("soal tes")
    targets = TARGETS

    def __init__(self, event: Event | None = None):
        self.event = event

    def params(self) -> dict:
        return {"event_id": self.event.id}

    @classmethod
    def from_params(cls, params: dict) -> QuestionImporter | None:
        event = db.session.get(Event, params.get("event_id"))
        return cls(event) if event is not None else None

    def region_of(self, user) -> str | None:
        return self.event.region_code

    def guess(self, words: set[str]) -> str | None:
        return _target(words)

    def check(self, rows: list[Row], user) -> list[RowPlan]:
        return plan_questions(self.event, rows)

    def apply(self, plan: Plan, user, filename: str) -> QuestionImport:
        return apply_questions(self.event, plan, user, filename)

    def refusal(self, error: Exception) -> str | None:
        return str(error) if isinstance(error, EvaluationError) else None

    def finished(self, result: QuestionImport) -> str:
        return _(
            "Impor soal selesai: %(new)d baru, %(updated)d diperbarui, %(same)d tidak berubah, "
            "%(skipped)d baris tidak valid dilewati.",
            new=result.created,
            updated=result.updated,
            same=result.unchanged,
            skipped=result.skipped,
        )
