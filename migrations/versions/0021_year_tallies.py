"""year tallies: the dashboard's figures per area and calendar year, kept by triggers

The admin's whole-country dashboard counted distinct phone numbers among 3 million registrations
(3.4 s on the national data) and a province took 150-220 ms. These tables keep, per area (the
country '', a province, a regency: every area an event's owner lies in) and calendar year of the
event's first session, what the dashboard shows for a calendar year:

- year_tallies: registrations (terdaftar) of counted events (neither drafts nor cancelled), by
  gender, without a number, and people: distinct numbers, each counted once in an area and year
  however many events it registered for there (a registration adds one when no other counted
  registration of its number lies in that area and year, and takes one when it was the last);
- year_origin_tallies: those registrations by where their person comes from (the area's child
  area of the origin, '~' outside the area, '' unknown);
- year_event_tallies: counted events per month and kind;
- year_session_tallies: their sessions in the same year, per day the session ends, with the
  expected attendances (the event's registrations per session) and the hadir marks; the
  dashboard takes the days before today as ended and looks at today's sessions one by one.
  Marks are spread over eight rows per day (``stripe``) so that taps in two halls never wait
  for the same row;
- year_kim_tallies: hadir marks of each KIM's people per year of the session, in counted events
  (the most / least active ranking);
- kim_tallies and village_tallies: KIM per regency and status, villages per regency and those
  with a verified KIM (the status table and coverage of the country and a province).

Triggers on registrations, events, event_sessions, attendance_tallies, kims and regions keep them
exact whichever code writes. Each trigger adds what its row adds now and takes away what the row
added before, measured against the rest of the database as it stands, so the rows may arrive in
any order (the benchmark's SQLite load) and a statement may change many (on PostgreSQL the
triggers that look at other rows of their own table run before each row changes, see
LOOK_AT_THEIR_OWN_TABLE, and first lock what they will change, see ``locks``, so two
transactions at the same moment cannot both miss each other's row). A deleted event or session takes its part away before
it goes (BEFORE DELETE); its children, deleted after it, then find no parent and change nothing.
Both databases get the same statements, PostgreSQL inside trigger functions. The tables are
filled from the rows as they are.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

COUNTED = "('terbit', 'berlangsung', 'selesai')"  # events neither drafts nor cancelled
STRIPES = 8
# the levels of an owner's code an event belongs to: the country (''), its province, its regency;
# ``child`` is how long a child area's code is at that level
LEVELS = "(SELECT 0 AS n, 2 AS child UNION ALL SELECT 2, 5 UNION ALL SELECT 5, 8) lv"


class Dialect:
    """The few expressions the two databases write differently."""

    def __init__(self, name: str):
        self.postgresql = name == 'postgresql'

    def year(self, x: str) -> str:
        if self.postgresql:
            return f"CAST(EXTRACT(YEAR FROM {x}) AS INTEGER)"
        return f"CAST(strftime('%Y', {x}) AS INTEGER)"

    def month(self, x: str) -> str:
        if self.postgresql:
            return f"CAST(EXTRACT(MONTH FROM {x}) AS INTEGER)"
        return f"CAST(strftime('%m', {x}) AS INTEGER)"

    def day(self, x: str) -> str:
        return f"CAST({x} AS DATE)" if self.postgresql else f"date({x})"


def _added(table: str, key: str, columns: tuple[str, ...]) -> str:
    sums = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns)
    return f"ON CONFLICT ({key}) DO UPDATE SET {sums}"


PEOPLE = ('registrations', 'men', 'women', 'no_phone', 'people')
ON_YEAR = _added('year_tallies', 'area_code, year', PEOPLE)
ON_ORIGIN = _added('year_origin_tallies', 'area_code, year, origin_key', ('registrations',))
ON_EVENTS = _added('year_event_tallies', 'area_code, year, month, kind', ('events',))
ON_SESSIONS = _added(
    'year_session_tallies', 'area_code, year, ends_on, stripe', ('sessions', 'expected', 'hadir')
)
ON_KIM = _added('year_kim_tallies', 'kim_id, year', ('hadir',))
ON_STATUS = _added('kim_tallies', 'regency_code, status', ('kims',))
ON_VILLAGES = _added('village_tallies', 'regency_code', ('villages', 'active'))


def _origin_key(origin: str, area: str) -> str:
    """The key of a registration's origin in an area: the child area it lies in, '~' outside
    the area, '' unknown."""
    return (
        f"CASE WHEN {origin} IS NULL THEN '' "
        f"WHEN lv.n = 0 OR {origin} = {area} OR substr({origin}, 1, lv.n + 1) = {area} || '.' "
        f"THEN substr({origin}, 1, lv.child) ELSE '~' END"
    )


def _counted(e: str) -> str:
    return f"{e}.status IN {COUNTED} AND {e}.starts_on IS NOT NULL"


# --- what one row adds (sign 1) or takes away (sign -1) ------------------------------------------


def registration_parts(d: Dialect, r: str, s: str) -> list[str]:
    """A registration ``r`` (NEW or OLD) of a counted event: its person, origin and expected
    attendances, in every area its event belongs to."""
    year = d.year('e.starts_on')
    area = "substr(e.region_code, 1, lv.n)"
    of_event = (
        f"FROM events e JOIN {LEVELS} ON length(e.region_code) >= lv.n "
        f"WHERE e.id = {r}.event_id AND {r}.status = 'terdaftar' AND {_counted('e')}"
    )
    another = (  # another counted registration of the number in the same area and year
        "SELECT 1 FROM registrations o JOIN events oe ON oe.id = o.event_id "
        f"WHERE o.phone = {r}.phone AND o.id <> {r}.id AND o.status = 'terdaftar' "
        f"AND oe.status IN {COUNTED} AND {d.year('oe.starts_on')} = {year} "
        f"AND substr(oe.region_code, 1, lv.n) = {area}"
    )
    return [
        f"INSERT INTO year_tallies (area_code, year, {', '.join(PEOPLE)}) "
        f"SELECT {area}, {year}, {s}, "
        f"CASE WHEN {r}.gender = 'L' THEN {s} ELSE 0 END, "
        f"CASE WHEN {r}.gender = 'P' THEN {s} ELSE 0 END, "
        f"CASE WHEN {r}.phone IS NULL THEN {s} ELSE 0 END, "
        f"CASE WHEN {r}.phone IS NULL OR EXISTS ({another}) THEN 0 ELSE {s} END "
        f"{of_event} {ON_YEAR}",
        "INSERT INTO year_origin_tallies (area_code, year, origin_key, registrations) "
        f"SELECT {area}, {year}, {_origin_key(f'{r}.origin_code', area)}, {s} "
        f"{of_event} {ON_ORIGIN}",
        "INSERT INTO year_session_tallies "
        "(area_code, year, ends_on, stripe, sessions, expected, hadir) "
        f"SELECT {area}, {year}, {d.day('s.ends_at')}, {r}.id % {STRIPES}, 0, {s} * count(*), 0 "
        "FROM events e JOIN event_sessions s ON s.event_id = e.id "
        f"JOIN {LEVELS} ON length(e.region_code) >= lv.n "
        f"WHERE e.id = {r}.event_id AND {r}.status = 'terdaftar' AND {_counted('e')} "
        f"AND {d.year('s.starts_at')} = {year} "
        f"GROUP BY e.id, lv.n, {d.day('s.ends_at')} {ON_SESSIONS}",
    ]


def session_parts(d: Dialect, x: str, s: str) -> list[str]:
    """A session ``x``: its place in its counted event's year (the event's registrations expect
    it, its marks count) and its KIM's marks in the session's year."""
    year = d.year('e.starts_on')
    return [
        "INSERT INTO year_session_tallies "
        "(area_code, year, ends_on, stripe, sessions, expected, hadir) "
        f"SELECT substr(e.region_code, 1, lv.n), {year}, {d.day(f'{x}.ends_at')}, "
        f"{x}.id % {STRIPES}, {s}, "
        f"{s} * (SELECT count(*) FROM registrations r "
        "WHERE r.event_id = e.id AND r.status = 'terdaftar'), "
        f"{s} * (SELECT coalesce(sum(t.hadir), 0) FROM attendance_tallies t "
        f"WHERE t.session_id = {x}.id) "
        f"FROM events e JOIN {LEVELS} ON length(e.region_code) >= lv.n "
        f"WHERE e.id = {x}.event_id AND {_counted('e')} AND {d.year(f'{x}.starts_at')} = {year} "
        f"{ON_SESSIONS}",
        "INSERT INTO year_kim_tallies (kim_id, year, hadir) "
        f"SELECT t.kim_id, {d.year(f'{x}.starts_at')}, {s} * t.hadir "
        f"FROM attendance_tallies t JOIN events e ON e.id = {x}.event_id "
        f"WHERE t.session_id = {x}.id AND t.kim_id > 0 AND t.hadir <> 0 "
        f"AND e.status IN {COUNTED} {ON_KIM}",
    ]


def tally_parts(d: Dialect, t: str, amount: str) -> list[str]:
    """``amount`` hadir marks more in the tally row ``t`` (a session and a KIM)."""
    year = d.year('e.starts_on')
    return [
        "INSERT INTO year_session_tallies "
        "(area_code, year, ends_on, stripe, sessions, expected, hadir) "
        f"SELECT substr(e.region_code, 1, lv.n), {year}, {d.day('s.ends_at')}, "
        f"({t}.session_id + {t}.kim_id) % {STRIPES}, 0, 0, {amount} "
        "FROM event_sessions s JOIN events e ON e.id = s.event_id "
        f"JOIN {LEVELS} ON length(e.region_code) >= lv.n "
        f"WHERE s.id = {t}.session_id AND {_counted('e')} AND {d.year('s.starts_at')} = {year} "
        f"{ON_SESSIONS}",
        "INSERT INTO year_kim_tallies (kim_id, year, hadir) "
        f"SELECT {t}.kim_id, {d.year('s.starts_at')}, {amount} "
        "FROM event_sessions s JOIN events e ON e.id = s.event_id "
        f"WHERE s.id = {t}.session_id AND {t}.kim_id > 0 AND e.status IN {COUNTED} {ON_KIM}",
    ]


def event_parts(d: Dialect, x: str, s: str) -> list[str]:
    """An event with the owner, status, first session and kind of ``x`` (NEW or OLD), with its
    registrations, sessions and marks as they stand."""
    year = d.year(f'{x}.starts_on')
    area = f"substr({x}.region_code, 1, lv.n)"
    levels = f"JOIN {LEVELS} ON length({x}.region_code) >= lv.n"
    registered = (
        f"FROM registrations r {levels} "
        f"WHERE r.event_id = {x}.id AND r.status = 'terdaftar' AND {_counted(x)}"
    )
    elsewhere = (  # the number's counted registration in another event of the area and year
        "SELECT 1 FROM registrations o JOIN events oe ON oe.id = o.event_id "
        f"WHERE o.phone = r.phone AND o.event_id <> {x}.id AND o.status = 'terdaftar' "
        f"AND oe.status IN {COUNTED} AND {d.year('oe.starts_on')} = {year} "
        f"AND substr(oe.region_code, 1, lv.n) = {area}"
    )
    return [
        "INSERT INTO year_event_tallies (area_code, year, month, kind, events) "
        f"SELECT {area}, {year}, {d.month(f'{x}.starts_on')}, {x}.kind, {s} "
        f"FROM {LEVELS} WHERE length({x}.region_code) >= lv.n AND {_counted(x)} {ON_EVENTS}",
        f"INSERT INTO year_tallies (area_code, year, {', '.join(PEOPLE)}) "
        f"SELECT p.area_code, p.year, {s} * count(*), {s} * sum(p.men), {s} * sum(p.women), "
        f"{s} * sum(p.no_phone), {s} * count(DISTINCT p.first_phone) "
        f"FROM (SELECT {area} AS area_code, {year} AS year, "
        "CASE WHEN r.gender = 'L' THEN 1 ELSE 0 END AS men, "
        "CASE WHEN r.gender = 'P' THEN 1 ELSE 0 END AS women, "
        "CASE WHEN r.phone IS NULL THEN 1 ELSE 0 END AS no_phone, "
        f"CASE WHEN r.phone IS NOT NULL AND NOT EXISTS ({elsewhere}) THEN r.phone END "
        f"AS first_phone {registered}) p "
        f"WHERE true GROUP BY p.area_code, p.year {ON_YEAR}",
        "INSERT INTO year_origin_tallies (area_code, year, origin_key, registrations) "
        f"SELECT p.area_code, p.year, p.origin_key, {s} * count(*) "
        f"FROM (SELECT {area} AS area_code, {year} AS year, "
        f"{_origin_key('r.origin_code', area)} AS origin_key {registered}) p "
        f"WHERE true GROUP BY p.area_code, p.year, p.origin_key {ON_ORIGIN}",
        "INSERT INTO year_session_tallies "
        "(area_code, year, ends_on, stripe, sessions, expected, hadir) "
        f"SELECT p.area_code, p.year, p.ends_on, p.stripe, {s} * count(*), "
        f"{s} * count(*) * (SELECT count(*) FROM registrations r "
        f"WHERE r.event_id = {x}.id AND r.status = 'terdaftar'), {s} * sum(p.hadir) "
        f"FROM (SELECT {area} AS area_code, {year} AS year, {d.day('s.ends_at')} AS ends_on, "
        f"s.id % {STRIPES} AS stripe, (SELECT coalesce(sum(t.hadir), 0) "
        "FROM attendance_tallies t WHERE t.session_id = s.id) AS hadir "
        f"FROM event_sessions s {levels} WHERE s.event_id = {x}.id AND {_counted(x)} "
        f"AND {d.year('s.starts_at')} = {year}) p "
        f"WHERE true GROUP BY p.area_code, p.year, p.ends_on, p.stripe {ON_SESSIONS}",
        "INSERT INTO year_kim_tallies (kim_id, year, hadir) "
        f"SELECT t.kim_id, {d.year('s.starts_at')}, {s} * sum(t.hadir) "
        "FROM event_sessions s JOIN attendance_tallies t ON t.session_id = s.id "
        f"WHERE s.event_id = {x}.id AND t.kim_id > 0 AND {x}.status IN {COUNTED} "
        f"GROUP BY t.kim_id, {d.year('s.starts_at')} HAVING sum(t.hadir) <> 0 {ON_KIM}",
    ]


def kim_parts(k: str, s: str) -> list[str]:
    """A KIM: its regency's count of its status, and its village's verified KIM when it is the
    only one."""
    return [
        "INSERT INTO kim_tallies (regency_code, status, kims) "
        f"SELECT substr({k}.village_code, 1, 5), {k}.status, {s} WHERE true {ON_STATUS}",
        "INSERT INTO village_tallies (regency_code, villages, active) "
        f"SELECT substr({k}.village_code, 1, 5), 0, {s} "
        f"WHERE {k}.status = 'terverifikasi' AND NOT EXISTS (SELECT 1 FROM kims o "
        f"WHERE o.village_code = {k}.village_code AND o.status = 'terverifikasi' "
        f"AND o.id <> {k}.id) {ON_VILLAGES}",
    ]


def region_parts(g: str, s: str) -> list[str]:
    return [
        "INSERT INTO village_tallies (regency_code, villages, active) "
        f"SELECT substr({g}.code, 1, 5), {s}, 0 WHERE {g}.level = 'desa' {ON_VILLAGES}"
    ]


def _month_of(d: Dialect, x: str) -> str:
    return f"({d.year(x)} * 100 + {d.month(x)})"


def triggers(d: Dialect) -> list[tuple[str, str, str, str | None, list[str]]]:
    """(name, timing and event, table, condition, statements) of every trigger."""
    counted_changed = (
        f"(OLD.status IN {COUNTED}) <> (NEW.status IN {COUNTED}) "
        "OR (OLD.starts_on IS NULL) <> (NEW.starts_on IS NULL) "
        f"OR (NEW.status IN {COUNTED} AND (OLD.region_code <> NEW.region_code "
        f"OR OLD.kind <> NEW.kind OR {_month_of(d, 'OLD.starts_on')} "
        f"<> {_month_of(d, 'NEW.starts_on')}))"
    )
    person_changed = " OR ".join(
        f"OLD.{c} IS DISTINCT FROM NEW.{c}"
        for c in ('status', 'phone', 'gender', 'origin_code', 'event_id')
    )
    return [
        ('year_registration_added', 'AFTER INSERT', 'registrations', None,
         registration_parts(d, 'NEW', '1')),
        ('year_registration_removed', 'AFTER DELETE', 'registrations', None,
         registration_parts(d, 'OLD', '-1')),
        ('year_registration_changed',
         'AFTER UPDATE OF status, phone, gender, origin_code, event_id', 'registrations',
         person_changed,
         registration_parts(d, 'OLD', '-1') + registration_parts(d, 'NEW', '1')),
        ('year_session_added', 'AFTER INSERT', 'event_sessions', None,
         session_parts(d, 'NEW', '1')),
        ('year_session_removed', 'BEFORE DELETE', 'event_sessions', None,
         session_parts(d, 'OLD', '-1')),
        ('year_session_changed', 'AFTER UPDATE OF starts_at, ends_at, event_id',
         'event_sessions',
         " OR ".join(f"OLD.{c} <> NEW.{c}" for c in ('starts_at', 'ends_at', 'event_id')),
         session_parts(d, 'OLD', '-1') + session_parts(d, 'NEW', '1')),
        ('year_tally_added', 'AFTER INSERT', 'attendance_tallies', 'NEW.hadir <> 0',
         tally_parts(d, 'NEW', 'NEW.hadir')),
        ('year_tally_removed', 'AFTER DELETE', 'attendance_tallies', 'OLD.hadir <> 0',
         tally_parts(d, 'OLD', '-OLD.hadir')),
        ('year_tally_changed', 'AFTER UPDATE OF hadir', 'attendance_tallies',
         'OLD.hadir <> NEW.hadir', tally_parts(d, 'NEW', 'NEW.hadir - OLD.hadir')),
        ('year_event_added', 'AFTER INSERT', 'events', None, event_parts(d, 'NEW', '1')),
        ('year_event_removed', 'BEFORE DELETE', 'events', None, event_parts(d, 'OLD', '-1')),
        ('year_event_changed', 'AFTER UPDATE OF status, starts_on, region_code, kind',
         'events', counted_changed,
         event_parts(d, 'OLD', '-1') + event_parts(d, 'NEW', '1')),
        ('status_tally_added', 'AFTER INSERT', 'kims', None, kim_parts('NEW', '1')),
        ('status_tally_removed', 'AFTER DELETE', 'kims', None, kim_parts('OLD', '-1')),
        ('status_tally_changed', 'AFTER UPDATE OF status, village_code', 'kims',
         "OLD.status <> NEW.status OR OLD.village_code <> NEW.village_code",
         kim_parts('OLD', '-1') + kim_parts('NEW', '1')),
        ('village_tally_added', 'AFTER INSERT', 'regions', None, region_parts('NEW', '1')),
        ('village_tally_removed', 'AFTER DELETE', 'regions', None, region_parts('OLD', '-1')),
        ('village_tally_changed', 'AFTER UPDATE OF code, level', 'regions',
         "OLD.code <> NEW.code OR OLD.level <> NEW.level",
         region_parts('OLD', '-1') + region_parts('NEW', '1')),
    ]  # fmt: skip


# --- the tables filled from the rows as they are (the same counts the app's recount makes) -------


def fills(d: Dialect) -> list[str]:
    area, year = "substr(e.region_code, 1, lv.n)", d.year('e.starts_on')
    counted_registrations = (
        f"FROM registrations r JOIN events e ON e.id = r.event_id "
        f"JOIN {LEVELS} ON length(e.region_code) >= lv.n "
        f"WHERE r.status = 'terdaftar' AND {_counted('e')}"
    )
    registered = (
        "(SELECT event_id, count(*) AS n FROM registrations WHERE status = 'terdaftar' "
        "GROUP BY event_id)"
    )
    marks = "(SELECT session_id, sum(hadir) AS n FROM attendance_tallies GROUP BY session_id)"
    return [
        f"INSERT INTO year_tallies (area_code, year, {', '.join(PEOPLE)}) "
        "SELECT c.area_code, c.year, c.registrations, c.men, c.women, c.no_phone, "
        "coalesce(p.people, 0) FROM ("
        f"SELECT {area} AS area_code, {year} AS year, count(*) AS registrations, "
        "sum(CASE WHEN r.gender = 'L' THEN 1 ELSE 0 END) AS men, "
        "sum(CASE WHEN r.gender = 'P' THEN 1 ELSE 0 END) AS women, "
        "sum(CASE WHEN r.phone IS NULL THEN 1 ELSE 0 END) AS no_phone "
        f"{counted_registrations} GROUP BY {area}, {year}) c "
        "LEFT JOIN (SELECT area_code, year, count(*) AS people FROM ("
        f"SELECT DISTINCT {area} AS area_code, {year} AS year, r.phone "
        f"{counted_registrations} AND r.phone IS NOT NULL) d GROUP BY area_code, year) p "
        "ON p.area_code = c.area_code AND p.year = c.year",
        "INSERT INTO year_origin_tallies (area_code, year, origin_key, registrations) "
        f"SELECT {area}, {year}, {_origin_key('r.origin_code', area)}, count(*) "
        f"{counted_registrations} "
        f"GROUP BY {area}, {year}, {_origin_key('r.origin_code', area)}",
        "INSERT INTO year_event_tallies (area_code, year, month, kind, events) "
        f"SELECT {area}, {year}, {d.month('e.starts_on')}, e.kind, count(*) "
        f"FROM events e JOIN {LEVELS} ON length(e.region_code) >= lv.n WHERE {_counted('e')} "
        f"GROUP BY {area}, {year}, {d.month('e.starts_on')}, e.kind",
        "INSERT INTO year_session_tallies "
        "(area_code, year, ends_on, stripe, sessions, expected, hadir) "
        f"SELECT {area}, {year}, {d.day('s.ends_at')}, 0, count(*), "
        "coalesce(sum(reg.n), 0), coalesce(sum(m.n), 0) "
        f"FROM event_sessions s JOIN events e ON e.id = s.event_id "
        f"JOIN {LEVELS} ON length(e.region_code) >= lv.n "
        f"LEFT JOIN {registered} reg ON reg.event_id = e.id "
        f"LEFT JOIN {marks} m ON m.session_id = s.id "
        f"WHERE {_counted('e')} AND {d.year('s.starts_at')} = {year} "
        f"GROUP BY {area}, {year}, {d.day('s.ends_at')}",
        "INSERT INTO year_kim_tallies (kim_id, year, hadir) "
        f"SELECT t.kim_id, {d.year('s.starts_at')}, sum(t.hadir) "
        "FROM attendance_tallies t JOIN event_sessions s ON s.id = t.session_id "
        f"JOIN events e ON e.id = s.event_id WHERE t.kim_id > 0 AND e.status IN {COUNTED} "
        f"GROUP BY t.kim_id, {d.year('s.starts_at')} HAVING sum(t.hadir) <> 0",
        "INSERT INTO kim_tallies (regency_code, status, kims) "
        "SELECT substr(village_code, 1, 5), status, count(*) FROM kims "
        "GROUP BY substr(village_code, 1, 5), status",
        "INSERT INTO village_tallies (regency_code, villages, active) "
        "SELECT v.regency_code, v.n, coalesce(a.n, 0) FROM ("
        "SELECT substr(code, 1, 5) AS regency_code, count(*) AS n FROM regions "
        "WHERE level = 'desa' GROUP BY substr(code, 1, 5)) v LEFT JOIN ("
        "SELECT substr(village_code, 1, 5) AS regency_code, count(DISTINCT village_code) AS n "
        "FROM kims WHERE status = 'terverifikasi' GROUP BY substr(village_code, 1, 5)) a "
        "ON a.regency_code = v.regency_code",
    ]


def _create_tables():
    op.create_table(
        'year_tallies',
        sa.Column('area_code', sa.String(length=5), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in PEOPLE),
        sa.PrimaryKeyConstraint('area_code', 'year', name=op.f('pk_year_tallies')),
    )
    op.create_table(
        'year_origin_tallies',
        sa.Column('area_code', sa.String(length=5), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('origin_key', sa.String(length=8), nullable=False),
        sa.Column('registrations', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            'area_code', 'year', 'origin_key', name=op.f('pk_year_origin_tallies')
        ),
    )
    op.create_table(
        'year_event_tallies',
        sa.Column('area_code', sa.String(length=5), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('month', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            'area_code', 'year', 'month', 'kind', name=op.f('pk_year_event_tallies')
        ),
    )
    op.create_table(
        'year_session_tallies',
        sa.Column('area_code', sa.String(length=5), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('stripe', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('sessions', sa.Integer(), nullable=False),
        sa.Column('expected', sa.Integer(), nullable=False),
        sa.Column('hadir', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            'area_code', 'year', 'ends_on', 'stripe', name=op.f('pk_year_session_tallies')
        ),
    )
    op.create_table(
        'year_kim_tallies',
        sa.Column('kim_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('hadir', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('kim_id', 'year', name=op.f('pk_year_kim_tallies')),
    )
    op.create_index('ix_year_kim_tallies_year_hadir', 'year_kim_tallies', ['year', 'hadir'])
    op.create_table(
        'kim_tallies',
        sa.Column('regency_code', sa.String(length=5), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('kims', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('regency_code', 'status', name=op.f('pk_kim_tallies')),
    )
    op.create_table(
        'village_tallies',
        sa.Column('regency_code', sa.String(length=5), nullable=False),
        sa.Column('villages', sa.Integer(), nullable=False),
        sa.Column('active', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('regency_code', name=op.f('pk_village_tallies')),
    )
    if op.get_bind().dialect.name == 'postgresql':
        # the least active KIM of the country: verified KIM in name order until five without a
        # mark are found (SQLite, one regency, sorts its few hundred)
        op.execute('CREATE INDEX ix_kims_lower_name ON kims (lower(name), id)')
    # the dashboard looks at today's ended sessions one by one
    op.create_index(op.f('ix_event_sessions_ends_at'), 'event_sessions', ['ends_at'])


TABLES = (
    'year_tallies', 'year_origin_tallies', 'year_event_tallies', 'year_session_tallies',
    'year_kim_tallies', 'kim_tallies', 'village_tallies',
)  # fmt: skip


def locks(d: Dialect, table: str, rows: list[str]) -> list[str]:
    """What a PostgreSQL trigger locks before it looks at other rows, so that two transactions
    at the same moment cannot both miss each other's row (SQLite runs one writer at a time):
    the rows of year_tallies (or village_tallies) it will change, made if missing, and the event
    of a registration or a session (its registrations times its sessions are expected). Rows
    are taken in one order, so two triggers never wait for each other in a circle."""
    if table == 'kims':
        villages = ", ".join(f"({r}.village_code)" for r in rows)
        return [
            "INSERT INTO village_tallies (regency_code, villages, active) "
            f"SELECT DISTINCT substr(v.code, 1, 5), 0, 0 FROM (VALUES {villages}) v(code) "
            "ORDER BY 1 ON CONFLICT (regency_code) DO UPDATE SET active = village_tallies.active"
        ]
    if table == 'events':
        areas = " UNION ".join(
            f"SELECT substr({r}.region_code, 1, lv.n) AS area_code, "
            f"{d.year(f'{r}.starts_on')} AS year FROM {LEVELS} "
            f"WHERE length({r}.region_code) >= lv.n AND {_counted(r)}"
            for r in rows
        )
    else:
        events = ", ".join(f"{r}.event_id" for r in rows)
        event_rows = [f"PERFORM 1 FROM events WHERE id IN ({events}) ORDER BY id FOR NO KEY UPDATE"]
        if table == 'event_sessions':
            return event_rows
        areas = (
            f"SELECT substr(e.region_code, 1, lv.n) AS area_code, {d.year('e.starts_on')} AS year "
            f"FROM events e JOIN {LEVELS} ON length(e.region_code) >= lv.n "
            f"WHERE e.id IN ({events}) AND {_counted('e')}"
        )
    people = ", ".join(PEOPLE)
    zeros = ", ".join("0" for _ in PEOPLE)
    taken = [
        f"INSERT INTO year_tallies (area_code, year, {people}) "
        f"SELECT DISTINCT a.area_code, a.year, {zeros} FROM ({areas}) a ORDER BY 1, 2 "
        "ON CONFLICT (area_code, year) DO UPDATE SET people = year_tallies.people"
    ]
    return taken if table == 'events' else event_rows + taken


LOCKING = {'registrations', 'events', 'event_sessions', 'kims'}


# Tables whose triggers look at other rows of the same table: another registration of the
# number, another counted event where the number registered, another verified KIM of the village.
# PostgreSQL runs a row's AFTER trigger once the statement has changed all its rows (a DELETE of
# two registrations of one number would then find neither and take the person away twice), and
# a BEFORE trigger as each row changes, seeing the rows changed before it — as SQLite runs both.
LOOK_AT_THEIR_OWN_TABLE = {'registrations', 'events', 'kims'}


def upgrade():
    _create_tables()
    dialect = Dialect(op.get_bind().dialect.name)
    for statement in fills(dialect):
        op.execute(statement)
    if dialect.postgresql:  # planned with their statistics from the first request on
        op.execute(f"ANALYZE {', '.join(TABLES)}")
    for name, when, table, condition, statements in triggers(dialect):
        if dialect.postgresql:
            if table in LOOK_AT_THEIR_OWN_TABLE:
                when = when.replace('AFTER', 'BEFORE')
            if table in LOCKING:
                rows = {'INSERT': ['NEW'], 'DELETE': ['OLD']}.get(when.split()[1], ['OLD', 'NEW'])
                statements = locks(dialect, table, rows) + statements
            body = "; ".join(statements)
            result = "NULL"
            if when.startswith("BEFORE"):
                result = "OLD" if when.endswith("DELETE") else "NEW"
            op.execute(
                f"CREATE FUNCTION kim_{name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {body}; RETURN {result}; END $$"
            )
            where = f" WHEN ({condition})" if condition else ""
            op.execute(
                f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW{where} "
                f"EXECUTE FUNCTION kim_{name}()"
            )
        else:
            where = f" WHEN {condition.replace('IS DISTINCT FROM', 'IS NOT')}" if condition else ""
            body = "".join(f"{s}; " for s in statements)
            op.execute(f"CREATE TRIGGER {name} {when} ON {table}{where} BEGIN {body}END")


def downgrade():
    dialect = Dialect(op.get_bind().dialect.name)
    for name, _when, table, _condition, _statements in triggers(dialect):
        if dialect.postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS kim_{name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index(op.f('ix_event_sessions_ends_at'), table_name='event_sessions')
    if dialect.postgresql:
        op.execute('DROP INDEX IF EXISTS ix_kims_lower_name')
    op.drop_index('ix_year_kim_tallies_year_hadir', table_name='year_kim_tallies')
    for table in reversed(TABLES):
        op.drop_table(table)
