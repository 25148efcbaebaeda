"""registrations.checkin_code indexed on its own: a code typed or scanned at the wrong event is
recognised as another event's ticket ("Tiket untuk kegiatan lain") without reading every
registration in the country

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.create_index('ix_registrations_checkin_code', ['checkin_code'], unique=False)


def downgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_index('ix_registrations_checkin_code')
