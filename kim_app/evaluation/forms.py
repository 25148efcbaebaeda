"""Forms of a training's evaluation: a question of the test, the operator's settings, and the
participant's sign-in in the hall. A participant's answers are read by the views from the posted
form (one field per question or element), since their number depends on the event."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional

from kim_app.evaluation.operations import MAX_CHOICES
from kim_app.evaluation.skm import WORDED
from kim_app.events.forms import BAD_CHOICE, REQUIRED, max_length, plausible_day

LETTERS = "ABCDEF"


class QuestionForm(FlaskForm):
    text = TextAreaField(_l("Soal"), validators=[DataRequired(REQUIRED), max_length(500)])
    pilihan_1 = StringField(_l("Pilihan A"), validators=[max_length(300)])
    pilihan_2 = StringField(_l("Pilihan B"), validators=[max_length(300)])
    pilihan_3 = StringField(_l("Pilihan C (boleh kosong)"), validators=[max_length(300)])
    pilihan_4 = StringField(_l("Pilihan D (boleh kosong)"), validators=[max_length(300)])
    pilihan_5 = StringField(_l("Pilihan E (boleh kosong)"), validators=[max_length(300)])
    pilihan_6 = StringField(_l("Pilihan F (boleh kosong)"), validators=[max_length(300)])
    answer = RadioField(
        _l("Jawaban yang benar"),
        choices=[SelectChoice(str(i), LETTERS[i]) for i in range(MAX_CHOICES)],
        validators=[DataRequired(_l("Pilih jawaban yang benar."))],
        validate_choice=True,
        invalid_choice_message=BAD_CHOICE,
    )
    explanation = TextAreaField(
        _l("Penjelasan (boleh kosong)"),
        validators=[max_length(1000)],
        description=_l("Ditampilkan kepada peserta sesudah post-test dikirim."),
    )

    # an error about the choices as a whole (too few, two the same)
    choices_error: str | None = None

    def choice_fields(self):
        return [self[f"pilihan_{i}"] for i in range(1, MAX_CHOICES + 1)]

    def choices(self) -> list[str]:
        return [(field.data or "").strip() for field in self.choice_fields()]


def _when(label) -> DateTimeLocalField:
    return DateTimeLocalField(
        label,
        validators=[Optional(), plausible_day],
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        invalid_value_message=_l("Tanggal dan jam tidak valid."),
    )


class SettingsForm(FlaskForm):
    pre_opens_at = _when(_l("Pre-test dibuka"))
    pre_closes_at = _when(_l("Pre-test ditutup"))
    post_opens_at = _when(_l("Post-test dibuka"))
    post_closes_at = _when(_l("Post-test ditutup"))
    certificate_needs_post = BooleanField(
        _l("Sertifikat hanya untuk yang sudah mengirim post-test")
    )
    survey_on = BooleanField(_l("Minta peserta mengisi survei kepuasan"))
    survey_anonymous = BooleanField(_l("Survei anonim (jawaban tidak dikaitkan dengan nama)"))
    rate_speakers = BooleanField(_l("Minta peserta menilai setiap narasumber"))


# one optional field per element of the survey: the operator's own wording of its question
for _element in WORDED:
    setattr(
        SettingsForm,
        f"unsur_{_element.key}",
        StringField(_element.label, validators=[max_length(300)], description=_element.question),
    )


class EntryForm(FlaskForm):
    """A participant names themself in the hall: the code on their ticket, or their number."""

    who = StringField(
        _l("Kode presensi atau nomor WhatsApp"),
        validators=[max_length(300)],
        description=_l(
            "Kode 8 karakter di bawah kode QR tiket Anda, atau nomor saat mendaftar (dengan PIN)."
        ),
    )
    pin = StringField(
        _l("PIN di layar ruangan"),
        validators=[max_length(20)],
        description=_l("Angka yang ditampilkan panitia di ruangan kegiatan."),
    )


class MaterialForm(FlaskForm):
    """A file for participants (the file comes as ``berkas``, read by the view)."""

    title = StringField(
        _l("Judul materi"),
        validators=[DataRequired(REQUIRED), max_length(200)],
        description=_l("Contoh: Salindia sesi 1 — Menulis berita desa."),
    )
    session_id = SelectField(_l("Untuk sesi"), choices=[], validate_choice=True)
    from_start = BooleanField(_l("Tampilkan kepada peserta setelah sesinya dimulai"), default=True)
    public = BooleanField(_l("Tampilkan juga di halaman publik kegiatan (tanpa tiket)"))

    # the file's error (the field is not a WTForms field)
    berkas_error: str | None = None

    def for_event(self, event) -> MaterialForm:
        self.session_id.choices = [SelectChoice("", _l("Seluruh kegiatan"))] + [
            SelectChoice(str(s.id), f"{n}. {s.topic or ''}".strip(". "))
            for n, s in enumerate(event.sessions, 1)
        ]
        self.session_id.invalid_choice_message = BAD_CHOICE
        return self
