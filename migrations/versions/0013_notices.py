"""notices: messages to accounts and prepared WhatsApp hand-offs, with read, sent and emailed times

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

REGION_CODE = sa.String(13).with_variant(sa.String(13, collation="C"), "postgresql")
KINDS = (
    'kim_terverifikasi', 'kim_perlu_perbaikan', 'kim_ditolak', 'undangan', 'tiket', 'promosi',
    'kegiatan_berubah', 'kegiatan_batal', 'pengingat',
)


def upgrade():
    op.create_table(
        'notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum(*KINDS, name='noticekind', native_enum=False, length=24), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('phone', sa.String(length=16), nullable=True),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('region_code', REGION_CODE, nullable=False),
        sa.Column('kim_id', sa.Integer(), nullable=True),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.Column('key', sa.String(length=60), nullable=True),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('link', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.Column('whatsapp_sent_at', sa.DateTime(), nullable=True),
        sa.Column('whatsapp_sent_by_id', sa.Integer(), nullable=True),
        sa.Column('emailed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notices_user_id_users'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_notices_region_code_regions')),
        sa.ForeignKeyConstraint(['kim_id'], ['kims.id'], name=op.f('fk_notices_kim_id_kims'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_notices_event_id_events'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_notices_created_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['whatsapp_sent_by_id'], ['users.id'], name=op.f('fk_notices_whatsapp_sent_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notices')),
        sa.UniqueConstraint('key', name=op.f('uq_notices_key')),
    )
    op.create_index('ix_notices_user_read', 'notices', ['user_id', 'read_at'])
    op.create_index('ix_notices_region_created', 'notices', ['region_code', 'created_at'])
    op.create_index(op.f('ix_notices_kim_id'), 'notices', ['kim_id'])
    op.create_index(op.f('ix_notices_event_id'), 'notices', ['event_id'])


def downgrade():
    op.drop_index(op.f('ix_notices_event_id'), table_name='notices')
    op.drop_index(op.f('ix_notices_kim_id'), table_name='notices')
    op.drop_index('ix_notices_region_created', table_name='notices')
    op.drop_index('ix_notices_user_read', table_name='notices')
    op.drop_table('notices')
