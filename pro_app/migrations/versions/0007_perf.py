"""perf: the audit chain's head row, kept by a trigger, so an append is two statements

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 17:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

GENESIS = "0" * 64

POSTGRES_FUNCTION = """
CREATE FUNCTION pro_audit_chain_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_chain_head SET last_id = NEW.id, last_hash = NEW.hash WHERE id = 1;
    RETURN NULL;
END;
$$
"""


def upgrade():
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=True),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    op.execute(
        "INSERT INTO audit_chain_head (id, last_id, last_hash) "
        "SELECT 1, (SELECT max(id) FROM audit_event), "
        f"COALESCE((SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1), '{GENESIS}')"
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRES_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_event_chain_head AFTER INSERT ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION pro_audit_chain_head()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_event_chain_head AFTER INSERT ON audit_event BEGIN "
            "UPDATE audit_chain_head SET last_id = NEW.id, last_hash = NEW.hash WHERE id = 1; "
            "END"
        )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_event_chain_head ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS pro_audit_chain_head()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_chain_head")
    op.drop_table('audit_chain_head')
