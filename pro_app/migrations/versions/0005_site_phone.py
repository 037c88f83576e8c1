"""site phone: the number patients can tap to call from an error page

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 17:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=40), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_column('phone')
