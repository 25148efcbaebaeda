"""rate_limits: the rate limiter's counts, shared by every worker and app server (PostgreSQL; with
SQLite they live in a file of their own beside the database, kim_app.ratelimits)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.create_table(
        'rate_limits',
        sa.Column('key', sa.String(length=600), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limits')),
    )
    op.create_index(op.f('ix_rate_limits_expires_at'), 'rate_limits', ['expires_at'])


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index(op.f('ix_rate_limits_expires_at'), table_name='rate_limits')
    op.drop_table('rate_limits')
