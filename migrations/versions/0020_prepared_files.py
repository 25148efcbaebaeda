"""prepared_files: documents and exports made by the job worker, with their progress, kept a day

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

REGION_CODE = sa.String(13).with_variant(sa.String(13, collation="C"), "postgresql")
STATUSES = ('antre', 'berjalan', 'selesai', 'gagal')
ACTIVE = sa.text("status IN ('antre', 'berjalan')")


def upgrade():
    op.create_table(
        'prepared_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('params', sa.String(length=400), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('region_code', REGION_CODE, nullable=True),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('source', sa.String(length=300), nullable=False),
        sa.Column('status', sa.Enum(*STATUSES, name='filestatus', native_enum=False, length=10), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('error', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_prepared_files_user_id_users'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_prepared_files_region_code_regions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_prepared_files')),
        sa.UniqueConstraint('token', name=op.f('uq_prepared_files_token')),
    )
    op.create_index(
        'ux_prepared_files_active', 'prepared_files', ['user_id', 'kind', 'params'], unique=True,
        sqlite_where=ACTIVE, postgresql_where=ACTIVE,
    )
    op.create_index('ix_prepared_files_status_heartbeat', 'prepared_files', ['status', 'heartbeat_at'])
    op.create_index('ix_prepared_files_expires', 'prepared_files', ['expires_at'])


def downgrade():
    op.drop_index('ix_prepared_files_expires', table_name='prepared_files')
    op.drop_index('ix_prepared_files_status_heartbeat', table_name='prepared_files')
    op.drop_index('ux_prepared_files_active', table_name='prepared_files')
    op.drop_table('prepared_files')
