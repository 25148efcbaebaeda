"""activity reports (issue 26): what a KIM reports of its work in the village, with up to three
photos, the operator's review, and which kinds its public profile shows

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('activity_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kim_id', sa.Integer(), nullable=False),
    sa.Column('village_code', sa.String(length=13).with_variant(sa.String(length=13, collation='C'), 'postgresql'), nullable=False),
    sa.Column('client_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.Enum('informasi', 'hoaks', 'potensi', 'aspirasi', 'darurat', 'pertemuan', 'konten', 'lainnya', name='activitykind', native_enum=False, length=12), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=False),
    sa.Column('text', sa.String(length=1000), nullable=False),
    sa.Column('channels', sa.String(length=80), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=False),
    sa.Column('reach', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('dikirim', 'diterima', 'perlu_perbaikan', 'disembunyikan', name='reportstatus', native_enum=False, length=16), nullable=False),
    sa.Column('review_note', sa.String(length=500), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_activity_reports_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['kim_id'], ['kims.id'], name=op.f('fk_activity_reports_kim_id_kims'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_activity_reports_reviewed_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_reports')),
    sa.UniqueConstraint('kim_id', 'client_id', name=op.f('uq_activity_reports_kim_id'))
    )
    with op.batch_alter_table('activity_reports', schema=None) as batch_op:
        batch_op.create_index('ix_activity_reports_kim_day', ['kim_id', 'done_on'], unique=False)
        batch_op.create_index('ix_activity_reports_status_area', ['status', 'village_code'], unique=False)

    op.create_table('activity_settings',
    sa.Column('kim_id', sa.Integer(), nullable=False),
    sa.Column('public_kinds', sa.String(length=120), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['kim_id'], ['kims.id'], name=op.f('fk_activity_settings_kim_id_kims'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('kim_id', name=op.f('pk_activity_settings'))
    )
    op.create_table('activity_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('file', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['report_id'], ['activity_reports.id'], name=op.f('fk_activity_photos_report_id_activity_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_photos'))
    )
    with op.batch_alter_table('activity_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_photos_report_id'), ['report_id'], unique=False)



def downgrade():
    with op.batch_alter_table('activity_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_photos_report_id'))

    op.drop_table('activity_photos')
    op.drop_table('activity_settings')
    with op.batch_alter_table('activity_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_reports_status_area')
        batch_op.drop_index('ix_activity_reports_kim_day')

    op.drop_table('activity_reports')
