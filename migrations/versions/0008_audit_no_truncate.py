"""audit_log: TRUNCATE refused on PostgreSQL too

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 11:00:00

Row triggers stop UPDATE and DELETE, but PostgreSQL's TRUNCATE fires no row trigger: a statement-level
BEFORE TRUNCATE trigger refuses it as well. (SQLite has no TRUNCATE; its DELETE without WHERE is already refused.)
"""
from alembic import op


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
