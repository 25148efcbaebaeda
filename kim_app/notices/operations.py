"""Writing notices: ``notify`` (the one way any package tells someone something), the hooks the
workflow calls at each hand-off, reading a notice and marking a hand-off sent, and the email job.

Operations flush, never commit; the request commits once. Emails are queued only after that
commit (``jobs.after_commit``) and sent by the worker. The hooks prepare notices for what
people do through the pages: their links carry the host those people use, so outside a request
(a command, a data load) they prepare nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import has_request_context, url_for
from flask_babel import force_locale
from sqlalchemy.exc import IntegrityError

from kim_app import jobs, signals
from kim_app.auth.models import Role, User
from kim_app.events.models import Event, EventStatus, Invitation, Registration, RegistrationStatus
from kim_app.extensions import db
from kim_app.groups.models import Kim, Member, Position
from kim_app.mail import email_configured, send_email
from kim_app.notices import messages
from kim_app.notices.messages import Message
from kim_app.notices.models import Notice
from kim_app.timezones import utcnow

EMAIL_JOB = "notices.send_email"
ACTIVE = (RegistrationStatus.TERDAFTAR, RegistrationStatus.DAFTAR_TUNGGU)


@dataclass(frozen=True)
class Recipient:
    """Who gets a notice: an account (``user_id``: it appears in their list), and/or a WhatsApp
    number (E.164: a hand-off in the outbox) and an email address. Each is given explicitly by
    the caller, so an account's number can be passed once accounts have one."""

    name: str
    user_id: int | None = None
    phone: str | None = None
    email: str | None = None
    key: str | None = None  # the same message is prepared once per key


@dataclass(frozen=True)
class Where:
    """Where a notice belongs: the area whose outbox holds its hand-off (and the KIM, for a
    KIM's own people; none for the whole country), the event it is about, the link it carries."""

    region_code: str | None
    kim_id: int | None = None
    event_id: int | None = None
    link: str = ""


def notify(
    recipients: Iterable[Recipient],
    compose: Callable[[Recipient], Message],
    *,
    region_code: str | None,
    kim_id: int | None = None,
    event_id: int | None = None,
    link: str = "",
    by: User | None = None,
) -> int:
    """Prepare one notice per recipient, ``compose`` writing each one's message. Returns the
    number of notices made (see ``prepare``)."""
    where = Where(region_code, kim_id, event_id, link)
    return prepare([(person, compose(person), where) for person in recipients], by)


def prepare(items: Iterable[tuple[Recipient, Message, Where]], by: User | None = None) -> int:
    """Store prepared notices in one INSERT, whatever their number; a recipient whose key is
    already used is skipped. Emails are queued after the request commits."""
    now = utcnow()
    unique = {}
    for person, message, where in items:
        same = (person.user_id, person.phone, person.email, person.key, where)
        unique.setdefault(same, (person, message, where))
    chosen = list(unique.values())
    keys = [person.key for person, _m, _w in chosen if person.key]
    if keys:
        taken = set(db.session.scalars(sa.select(Notice.key).where(Notice.key.in_(keys))))
        chosen = [item for item in chosen if item[0].key not in taken]
    rows = [
        {
            "kind": message.kind,
            "user_id": person.user_id,
            "name": person.name[:120],
            "phone": person.phone,
            "email": person.email or None,
            "region_code": where.region_code,
            "kim_id": where.kim_id,
            "event_id": where.event_id,
            "key": person.key,
            "subject": message.subject,
            "text": message.text,
            "link": where.link,
            "created_at": now,
            "created_by_id": getattr(by, "id", None),
        }
        for person, message, where in chosen
    ]
    if not rows:
        return 0
    try:
        with db.session.begin_nested():
            made = db.session.execute(
                sa.insert(Notice).returning(Notice.id, Notice.email), rows
            ).all()
    except IntegrityError:  # a key taken by a parallel request a moment ago: prepared there
        return 0
    emailed = [notice_id for notice_id, email in made if email]
    if emailed and email_configured():
        jobs.after_commit(EMAIL_JOB, emailed)
    return len(made)


# --- the hand-offs --------------------------------------------------------------------------------


def _link(endpoint: str, **values) -> str | None:
    """The absolute link a message carries; None outside a request (no host to name)."""
    return url_for(endpoint, **values, _external=True) if has_request_context() else None


def _accounts_of_kims(kims: list[Kim]) -> dict[int, list[User]]:
    """The active village-head accounts of each KIM's village and the KIM's pengurus accounts."""
    villages = {k.village_code for k in kims}
    users = db.session.scalars(
        sa.select(User)
        .where(
            User.active,
            sa.or_(
                sa.and_(User.role == Role.KEPALA_DESA, User.scope_code.in_(villages)),
                sa.and_(User.role == Role.PENGURUS_KIM, User.kim_id.in_([k.id for k in kims])),
            ),
        )
        .order_by(User.id)
    ).all()
    heads: dict[str, list[User]] = {}
    pengurus: dict[int, list[User]] = {}
    for user in users:
        if user.role is Role.KEPALA_DESA:
            heads.setdefault(user.scope_code, []).append(user)
        else:
            pengurus.setdefault(user.kim_id, []).append(user)
    return {k.id: heads.get(k.village_code, []) + pengurus.get(k.id, []) for k in kims}


def _ketua_of_kims(kim_ids: list[int]) -> dict[int, list[Member]]:
    """Each KIM's active ketua who has a WhatsApp number."""
    found: dict[int, list[Member]] = {i: [] for i in kim_ids}
    for member in db.session.scalars(
        sa.select(Member)
        .where(
            Member.kim_id.in_(kim_ids),
            Member.position == Position.KETUA,
            Member.active,
            Member.phone.is_not(None),
        )
        .order_by(Member.id)
    ):
        found[member.kim_id].append(member)
    return found


def _people_of_kim(users: list[User], ketua: list[Member], key: str = "") -> list[Recipient]:
    """The accounts (in their lists, by email, and by WhatsApp to the account's number) and the
    ketua (by WhatsApp) unless the ketua has an account on the same number (told once); with
    ``key``, each is told once (``key:u<user>``, ``key:m<member>``)."""
    numbers = {u.phone for u in users if u.phone}
    return [
        Recipient(
            u.name,
            user_id=u.id,
            phone=u.phone,
            email=u.email,
            key=f"{key}:u{u.id}" if key else None,
        )
        for u in users
    ] + [
        Recipient(
            m.name, phone=m.phone, email=m.email or None, key=f"{key}:m{m.id}" if key else None
        )
        for m in ketua
        if not (m.phone and m.phone in numbers)
    ]


def kim_status_changed(kim: Kim, note: str, by: User) -> int:
    """The verification result (verified, returned with the note, rejected) to the village
    head(s), the KIM's pengurus accounts and its ketua by WhatsApp."""
    link = _link("groups.detail", kim_id=kim.id)
    if kim.status not in messages.KIM_KINDS or link is None:
        return 0
    people = _people_of_kim(_accounts_of_kims([kim])[kim.id], _ketua_of_kims([kim.id])[kim.id])
    return notify(
        people,
        lambda r: messages.kim_status(kim, r.name, note, link),
        region_code=kim.village_code,
        kim_id=kim.id,
        link=link,
        by=by,
    )


def kims_invited(event: Event, quotas: dict[int, int], by: User) -> int:
    """An invitation to each KIM (id → quota) for its ketua (WhatsApp) and the village head and
    pengurus accounts, in a constant number of statements. Not while the event is a draft,
    which they could not open: publishing it sends them (``event_published``); each person is
    told once per event and KIM."""
    if not quotas or event.status is EventStatus.DRAFT or not has_request_context():
        return 0
    kims = db.session.execute(
        sa.select(Kim.id, Kim.name, Kim.village_code)
        .where(Kim.id.in_(list(quotas)))
        .order_by(Kim.id)
    ).all()
    accounts, ketua = _accounts_of_kims(kims), _ketua_of_kims([k.id for k in kims])
    items = []
    for kim in kims:
        link = _link("events.delegates", event_id=event.id, kim_id=kim.id)
        where = Where(kim.village_code, kim.id, event.id, link)
        quota = quotas[kim.id]
        for person in _people_of_kim(
            accounts[kim.id], ketua[kim.id], f"undangan:{event.id}:{kim.id}"
        ):
            items.append((person, messages.invitation(event, kim, quota, person.name, link), where))
    return prepare(items, by)


def event_published(event: Event, by: User) -> int:
    """The invitations made while the event was a draft go out once it is published."""
    quotas = dict(
        db.session.execute(
            sa.select(Invitation.kim_id, Invitation.quota).where(Invitation.event_id == event.id)
        ).all()
    )
    return kims_invited(event, quotas, by)


def _outbox_of(event: Event, kim_id: int | None, village_code: str | None) -> dict:
    """A KIM's delegate is in the KIM village's outbox (its head and pengurus send it too);
    anyone else in the outbox of the event's owner."""
    if kim_id is not None and village_code:
        return {"region_code": village_code, "kim_id": kim_id}
    return {"region_code": event.region_code, "kim_id": None}


def _village_of(registration: Registration) -> str | None:
    if registration.kim_id is None:
        return None
    return db.session.scalar(sa.select(Kim.village_code).where(Kim.id == registration.kim_id))


def _ticket_link(registration: Registration, event: Event) -> str | None:
    return _link("events.ticket", code=event.code, ticket=registration.ticket)


def ticket_prepared(registration: Registration, by: User | None) -> int:
    """The ticket link for someone an operator or a KIM's pengurus registered."""
    return tickets_prepared(registration.event, [registration], by)


def tickets_prepared(event: Event, registrations: list[Registration], by: User | None) -> int:
    """Ticket links for people an operator or a pengurus registered (one by one, or a whole
    imported file), in a constant number of statements."""
    people = [r for r in registrations if r.phone]
    if not people or not has_request_context():
        return 0
    kim_ids = {r.kim_id for r in people if r.kim_id}
    villages = dict(
        db.session.execute(sa.select(Kim.id, Kim.village_code).where(Kim.id.in_(kim_ids))).all()
        if kim_ids
        else ()
    )
    items = []
    for registration in people:
        link = _ticket_link(registration, event)
        waiting = registration.status is RegistrationStatus.DAFTAR_TUNGGU
        outbox = _outbox_of(event, registration.kim_id, villages.get(registration.kim_id))
        items.append(
            (
                Recipient(
                    registration.name, phone=registration.phone, key=f"tiket:{registration.id}"
                ),
                messages.ticket(event, registration.name, waiting, link),
                Where(outbox["region_code"], outbox["kim_id"], event.id, link),
            )
        )
    return prepare(items, by)


def promoted(registration: Registration, by: User | None) -> int:
    """A seat freed by a cancellation went to this person from the waiting list."""
    if not registration.phone or not has_request_context():
        return 0
    event = registration.event
    link = _ticket_link(registration, event)
    return notify(
        [Recipient(registration.name, phone=registration.phone)],
        lambda r: messages.promotion(event, r.name, link),
        event_id=event.id,
        link=link,
        by=by,
        **_outbox_of(event, registration.kim_id, _village_of(registration)),
    )


def _to_everyone(event: Event, compose, by: User | None, *, key: str | None = None) -> int:
    """One notice for each registered or waiting person with a number, in their outbox."""
    if not has_request_context():
        return 0
    rows = db.session.execute(
        sa.select(Registration, Kim.village_code)
        .outerjoin(Kim, Kim.id == Registration.kim_id)
        .where(
            Registration.event_id == event.id,
            Registration.status.in_(ACTIVE),
            Registration.phone.is_not(None),
        )
        .order_by(Registration.id)
    ).all()
    items = []
    for registration, village_code in rows:
        link = _ticket_link(registration, event)
        person = Recipient(
            registration.name,
            phone=registration.phone,
            key=f"{key}:{registration.id}" if key else None,
        )
        outbox = _outbox_of(event, registration.kim_id, village_code)
        where = Where(outbox["region_code"], outbox["kim_id"], event.id, link)
        items.append((person, compose(event, person.name, link), where))
    return prepare(items, by)


def event_changed(event: Event, by: User) -> int:
    """The time or place changed: everyone registered or waiting is told what holds now."""
    return _to_everyone(event, messages.event_changed, by)


def event_cancelled(event: Event, by: User) -> int:
    """The event was cancelled: everyone registered or waiting gets the reason."""
    return _to_everyone(event, messages.event_cancelled, by)


def reminders_prepared(event: Event, by: User) -> int:
    """The day-before reminder for everyone registered (once per person)."""
    return _to_everyone(event, messages.reminder, by, key="pengingat")


# --- reading and sending ------------------------------------------------------------------------------


def mark_read(notice: Notice) -> None:
    if notice.read_at is None:
        notice.read_at = utcnow()
        db.session.flush()


def mark_sent(notice: Notice, by: User) -> None:
    """Record that ``by`` sent the WhatsApp hand-off (the first mark stands)."""
    if notice.whatsapp_sent_at is None:
        notice.whatsapp_sent_at, notice.whatsapp_sent_by_id = utcnow(), by.id
        db.session.flush()


@jobs.job(EMAIL_JOB)
def send_notice_emails(notice_ids: list[int]) -> None:
    """The worker's job: email each notice not emailed yet, recording when it went. A failure
    raises, and huey retries the job; those already sent are not sent again."""
    for notice in db.session.scalars(
        sa.select(Notice).where(
            Notice.id.in_(notice_ids), Notice.emailed_at.is_(None), Notice.email.is_not(None)
        )
    ):
        body = notice.text if notice.link in notice.text else f"{notice.text}\n\n{notice.link}"
        send_email(notice.email, notice.subject, body)
        notice.emailed_at = utcnow()
        db.session.commit()


def reset_requested(user: User) -> int:
    """Tell the operators who manage ``user`` (the regency's for village accounts, the
    province's for a regency operator, the admins for a province operator) that its owner asked
    for a new password, with the link to the account's page."""
    if not has_request_context() or user.role is Role.ADMIN:
        return 0
    code = user.scope_code or ""
    above = {
        Role.OPERATOR_PROVINSI: (Role.ADMIN, None),
        Role.OPERATOR_KABKOTA: (Role.OPERATOR_PROVINSI, code[:2]),
    }.get(user.role, (Role.OPERATOR_KABKOTA, code[:5]))
    role, scope = above
    operators = db.session.scalars(
        sa.select(User)
        .where(User.active, User.role == role, User.scope_code == scope if scope else sa.true())
        .order_by(User.id)
        .limit(20)
    ).all()
    link = _link("auth.user_detail", user_id=user.id)
    if link is None:
        return 0
    where = user.scope.display_name if user.scope else ""
    return notify(
        [Recipient(op.name, user_id=op.id) for op in operators],
        lambda r: messages.reset_requested(r.name, user.name, user.role.label, where, link),
        region_code=code,
        link=link,
    )


def file_finished(file) -> int:
    """Tell the account that asked for a file the worker made (``kim_app.files``) that it is
    ready, or that it failed, in its list (and by email when SMTP is set): it may have left the
    progress page long ago. A file of the whole country (an admin's) is filed under no area."""
    owner = db.session.get(User, file.user_id)
    link = _link("files.status", token=file.token)
    if owner is None or link is None:
        return 0
    ready = file.status.value == "selesai"
    return notify(
        [Recipient(owner.name, user_id=owner.id, email=owner.email or None)],
        lambda r: messages.file_finished(r.name, file.title, ready, link),
        region_code=file.region_code,
        link=link,
    )


# --- what the other packages tell (kim_app.signals) ----------------------------------------------


def activity_reviewed(report, by: User) -> int:
    """An activity report returned for a fix or hidden: the KIM's accounts (the village head and
    its pengurus, the reporter among them) and its ketua by WhatsApp."""
    kim = report.kim
    endpoint = "activity.edit" if report.editable else "activity.report"
    link = _link(endpoint, kim_id=kim.id, report_id=report.id)
    if link is None:
        return 0
    people = _people_of_kim(_accounts_of_kims([kim])[kim.id], _ketua_of_kims([kim.id])[kim.id])
    with force_locale("id"):  # the kind's label, in the message's language
        return notify(
            people,
            lambda r: messages.activity_reviewed(report, r.name, link),
            region_code=kim.village_code,
            kim_id=kim.id,
            link=link,
            by=by,
        )


def entry_checked(entry, by: User) -> int:
    """A competition entry checked: the KIM's accounts and its ketua by WhatsApp, with the
    entry's page when it is to be fixed, else the competition's."""
    kim = entry.kim
    if entry.editable:
        link = _link(
            "competitions.entry",
            kim_id=kim.id,
            competition_id=entry.competition_id,
            category_id=entry.category_id,
        )
    else:
        link = _link("competitions.detail", competition_id=entry.competition_id)
    if link is None:
        return 0
    people = _people_of_kim(_accounts_of_kims([kim])[kim.id], _ketua_of_kims([kim.id])[kim.id])
    return notify(
        people,
        lambda r: messages.entry_checked(entry, r.name, link),
        region_code=kim.village_code,
        kim_id=kim.id,
        link=link,
        by=by,
    )


NOTIFY_MAX = 1000  # KIM told one by one of an item; beyond, the operator shares it in a group


def info_sent(item, by: User) -> int:
    """Information to spread: each targeted KIM's accounts (in their list, and by email) and,
    when it is urgent, its ketua by WhatsApp. An item for more than ``NOTIFY_MAX`` KIM prepares
    nothing one by one: it waits on every KIM's home page, and the operator shares it in a
    group."""
    from kim_app.activity.dissemination.operations import targeted

    if item.kims > NOTIFY_MAX or not has_request_context():
        return 0
    kims = db.session.execute(
        sa.select(Kim.id, Kim.name, Kim.village_code)
        .where(targeted(item.area_code, item.field))
        .order_by(Kim.id)
        .limit(NOTIFY_MAX)
    ).all()
    accounts = _accounts_of_kims(kims)
    ketua = _ketua_of_kims([k.id for k in kims]) if item.urgent else {}
    items = []
    for kim in kims:
        link = _link("activity.kim_item", kim_id=kim.id, item_id=item.id)
        where = Where(kim.village_code, kim.id, None, link)
        for person in _people_of_kim(accounts[kim.id], ketua.get(kim.id, []), f"info:{item.id}"):
            items.append((person, messages.info_sent(item, kim, person.name, link), where))
    return prepare(items, by)


signals.kim_status_changed.connect(kim_status_changed)
signals.kims_invited.connect(kims_invited)
signals.event_published.connect(event_published)
signals.event_changed.connect(event_changed)
signals.event_cancelled.connect(event_cancelled)
signals.tickets_prepared.connect(tickets_prepared)
signals.promoted.connect(promoted)
signals.reset_requested.connect(reset_requested)
signals.file_finished.connect(file_finished)
signals.activity_reviewed.connect(activity_reviewed)
signals.entry_checked.connect(entry_checked)
signals.info_sent.connect(info_sent)
