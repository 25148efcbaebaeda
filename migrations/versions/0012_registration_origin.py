"""registrations.origin_code: where the person comes from ("asal daerah"), so the operators of
that region see their people, read-only, at events of the province or the nation

Filled from the KIM's village for the registrations that came through a KIM. A plain column
(no foreign key) added with ALTER TABLE on both databases: SQLite's table is not rebuilt, so the
tally triggers of 0010 on registrations stay in place.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

REGION_CODE = sa.String(13).with_variant(sa.String(13, collation='C'), 'postgresql')


def upgrade():
    op.add_column('registrations', sa.Column('origin_code', REGION_CODE, nullable=True))
    op.execute(
        'UPDATE registrations SET origin_code = '
        '(SELECT kims.village_code FROM kims WHERE kims.id = registrations.kim_id) '
        'WHERE kim_id IS NOT NULL'
    )
    op.create_index(
        'ix_registrations_origin', 'registrations', ['origin_code', 'status', 'event_id']
    )


def downgrade():
    op.drop_index('ix_registrations_origin', table_name='registrations')
    # ALTER TABLE … DROP COLUMN on both (SQLite ≥ 3.35): no table rebuild, the triggers stay
    op.execute('ALTER TABLE registrations DROP COLUMN origin_code')
