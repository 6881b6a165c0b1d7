"""household imports as jobs

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-22 09:00:00

``import_job``: a long household list is checked, verified and stored by the job queue instead of inside the web
request; the row keeps the file until the job ends, its progress, and the per-row report as JSON.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "import_job",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("market_id", sa.Integer(), sa.ForeignKey("market.id"), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("filename", S(length=200), nullable=False),
        sa.Column("sheet", S(length=100), nullable=True),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("all_or_nothing", sa.Boolean(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("status", S(length=10), nullable=False),
        sa.Column("stage", S(length=20), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("error", S(length=300), nullable=True),
        sa.Column("report", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", T(), nullable=False),
        sa.Column("heartbeat_at", T(), nullable=True),
        sa.Column("finished_at", T(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
    )
    op.create_index("ix_import_job_market_id", "import_job", ["market_id"])


def downgrade() -> None:
    op.drop_table("import_job")
