"""security: sign-in guard counters (per username and address, per username)

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-29 17:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

import pro_app.models.base


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('signin_guard',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=128), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', pro_app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('not_before', pro_app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', pro_app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_signin_guard'))
    )
    with op.batch_alter_table('signin_guard', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signin_guard_username'), ['username'], unique=False)


def downgrade():
    with op.batch_alter_table('signin_guard', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signin_guard_username'))
    op.drop_table('signin_guard')
