"""information to spread (issue 26): items an operator sends to the KIM of an area or a field (text,
link or file, the WhatsApp-ready message, urgent or not) and each KIM's relay of an item (where,
to about how many people)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('info_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_code', sa.String(length=13).with_variant(sa.String(length=13, collation='C'), 'postgresql'), nullable=False),
    sa.Column('field', sa.String(length=24), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('text', sa.String(length=3000), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=False),
    sa.Column('share_text', sa.String(length=1000), nullable=False),
    sa.Column('file', sa.String(length=64), nullable=True),
    sa.Column('file_mime', sa.String(length=40), nullable=True),
    sa.Column('file_size', sa.Integer(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('kims', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_info_items_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_info_items'))
    )
    with op.batch_alter_table('info_items', schema=None) as batch_op:
        batch_op.create_index('ix_info_items_area_sent', ['area_code', 'sent_at'], unique=False)

    op.create_table('info_relays',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('kim_id', sa.Integer(), nullable=False),
    sa.Column('village_code', sa.String(length=13).with_variant(sa.String(length=13, collation='C'), 'postgresql'), nullable=False),
    sa.Column('channels', sa.String(length=80), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=False),
    sa.Column('reach', sa.Integer(), nullable=False),
    sa.Column('relayed_at', sa.DateTime(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_info_relays_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['info_items.id'], name=op.f('fk_info_relays_item_id_info_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['kim_id'], ['kims.id'], name=op.f('fk_info_relays_kim_id_kims'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_info_relays')),
    sa.UniqueConstraint('item_id', 'kim_id', name=op.f('uq_info_relays_item_id'))
    )
    with op.batch_alter_table('info_relays', schema=None) as batch_op:
        batch_op.create_index('ix_info_relays_kim_at', ['kim_id', 'relayed_at'], unique=False)



def downgrade():
    with op.batch_alter_table('info_relays', schema=None) as batch_op:
        batch_op.drop_index('ix_info_relays_kim_at')

    op.drop_table('info_relays')
    with op.batch_alter_table('info_items', schema=None) as batch_op:
        batch_op.drop_index('ix_info_items_area_sent')

    op.drop_table('info_items')
