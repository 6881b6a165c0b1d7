"""failure reasons as data

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-23 09:00:00

``printbatch.error_data`` and ``import_job.error_data``: a failed batch's or import's reason as its Vietnamese
template and params (JSON), so the status page says it in the reader's language; ``error`` keeps the Vietnamese
sentence for the CLI, logs and rows written before.
"""
from alembic import op
import sqlalchemy as sa


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("printbatch", "import_job"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("error_data", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    for table in ("printbatch", "import_job"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("error_data")
