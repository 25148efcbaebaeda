"""registrations.consent_at and consent_version: when the person agreed, on the public form, to
the privacy notice (UU 27/2022), and which version of it; empty when an operator, an invitation
or an import registered them

Plain columns added with ALTER TABLE on both databases: SQLite's table is not rebuilt, so the
tally triggers of 0010 on registrations stay in place.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('registrations', sa.Column('consent_at', sa.DateTime(), nullable=True))
    op.add_column('registrations', sa.Column('consent_version', sa.String(16), nullable=True))


def downgrade():
    # ALTER TABLE … DROP COLUMN on both (SQLite ≥ 3.35): no table rebuild, the triggers stay
    op.execute('ALTER TABLE registrations DROP COLUMN consent_version')
    op.execute('ALTER TABLE registrations DROP COLUMN consent_at')
