"""perf: an index on visit.window_end, where the due board starts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 22:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f('ix_visit_window_end'), 'visit', ['window_end'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_visit_window_end'), table_name='visit')
