"""print batches on the job queue: the stalls chosen, a heartbeat, the worker and its attempts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-15 09:00:00

Batches render in a worker process (huey), chunk by chunk. A worker that dies leaves its batch 'running'
with an old heartbeat: the reaper queues it again (it resumes at its last chunk) or, after too many
attempts, fails it with the reason. The chosen stalls are stored so the retry prints exactly those.
Existing batches keep '' and no heartbeat; they are finished or read as failed already.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("printbatch") as b:
        b.add_column(sa.Column("stall_codes", sa.Text(), nullable=False, server_default=""))
        b.add_column(sa.Column("heartbeat_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        b.add_column(sa.Column("worker", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        b.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("printbatch") as b:
        for col in ("attempts", "worker", "heartbeat_at", "stall_codes"):
            b.drop_column(col)
