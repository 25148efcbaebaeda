"""Evaluating a training (issue 25): the pre- and post-test with its question set, the
satisfaction survey (SKM, PermenPAN-RB 14/2017) and their results. Operators of the event keep
the questions and read the results; participants answer on their own phones without an account,
from their ticket or from a code shown in the hall."""

from babel.numbers import format_decimal
from flask import Blueprint, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from kim_app.evaluation.operations import shared_materials
from kim_app.evaluation.skm import GRADE_LABELS
from kim_app.events.operations import local_now
from kim_app.i18n import count, one_decimal

bp = Blueprint("evaluation", __name__)

# each module attaches its views to bp
from kim_app.evaluation import materials, participant, routes  # noqa: E402,F401


@bp.app_template_global()
def evaluation_offered(event) -> bool:
    """Whether the event asks its participants for a test or the survey (the ticket links to
    them)."""
    return participant.offered(event)


@bp.app_template_global()
def evaluation_url(registration) -> str:
    """The person's own tests and survey (the ticket page links there)."""
    return url_for(
        "evaluation.hub", code=registration.event.code, key=participant.pass_of(registration)
    )


@bp.app_template_filter()
def two_decimals(value) -> str:
    """An index or an average rating with two decimals in the reader's language (``84,72``)."""
    return format_decimal(value, "#,##0.00", locale=str(get_locale() or "id"))


@bp.app_template_filter()
def score(value) -> str:
    """A score or an average out of 100 (an exact fraction) with one decimal; ``—`` for none."""
    return "—" if value is None else one_decimal(float(value))


def report_lines(found) -> list[str]:
    """The Evaluasi section's sentences (the laporan's PDF, DOCX and page say the same)."""
    lines = []
    tests = found.summary
    if tests.pre_count or tests.post_count:
        lines.append(
            _(
                "Pre-test: %(pre_n)d orang, rata-rata %(pre)s; post-test: %(post_n)d orang, "
                "rata-rata %(post)s; kenaikan rata-rata %(gain)s poin (%(both)d orang "
                "mengerjakan keduanya). Nilai = jawaban benar ÷ jumlah soal × 100.",
                pre_n=tests.pre_count,
                pre=score(tests.pre_average),
                post_n=tests.post_count,
                post=score(tests.post_average),
                gain=score(tests.gain_average),
                both=tests.both,
            )
        )
    survey = found.survey
    if survey.index is not None:
        lines.append(
            _(
                "Survei kepuasan masyarakat (PermenPAN-RB 14/2017): %(n)d responden, nilai IKM "
                "%(value)s, mutu pelayanan %(grade)s (%(label)s).",
                n=survey.sent,
                value=two_decimals(survey.index.converted),
                grade=survey.index.grade,
                label=GRADE_LABELS[survey.index.grade],
            )
        )
    elif survey.sent:
        lines.append(
            _("Survei kepuasan: %(n)d responden; belum setiap unsur dinilai.", n=survey.sent)
        )
    return lines


@bp.app_template_global()
def shared_materials_of(event, *, public_only: bool) -> list:
    """The files a ticket (or, with ``public_only``, the public page) offers now."""
    if event.status.value in ("draft", "dibatalkan"):
        return []
    return shared_materials(event, local_now(event), public_only=public_only)


@bp.app_template_filter()
def file_size(size: int) -> str:
    """``240 KB``, ``1,4 MB``: what a download costs, in the reader's language."""
    if size < 1024 * 1024:
        return _("%(n)s KB", n=count(max(1, round(size / 1024))))
    return _("%(n)s MB", n=one_decimal(size / 1024 / 1024))
