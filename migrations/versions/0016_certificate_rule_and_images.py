"""events: the certificate rule (a share of the ended sessions, or every day), the agency's logo
and the signing official's signature image on certificates

Plain columns with server defaults added with ALTER TABLE on both databases (existing events keep
the percentage rule, without logo or signature).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

RULES = ('persen', 'setiap_hari')


def upgrade():
    op.add_column(
        'events',
        sa.Column(
            'certificate_rule',
            sa.Enum(*RULES, name='certificaterule', native_enum=False, length=12),
            nullable=False,
            server_default='persen',
        ),
    )
    op.add_column(
        'events',
        sa.Column('certificate_logo', sa.String(length=40), nullable=False, server_default=''),
    )
    op.add_column(
        'events',
        sa.Column('signer_signature', sa.String(length=40), nullable=False, server_default=''),
    )


def downgrade():
    # ALTER TABLE … DROP COLUMN on both (SQLite ≥ 3.35): no table rebuild
    op.execute('ALTER TABLE events DROP COLUMN signer_signature')
    op.execute('ALTER TABLE events DROP COLUMN certificate_logo')
    op.execute('ALTER TABLE events DROP COLUMN certificate_rule')
