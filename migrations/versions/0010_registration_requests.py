"""registrations by client id

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-21 09:00:00

``registration_request``: each registration sent through ``POST /api/v1/registrations`` under the id its tablet
made, with a hash of its content, so a retry (after a timeout, a cut connection, an offline outbox) gets the first
answer back instead of a second household, and a different body under a known id is refused.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "registration_request",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client_id", S(length=36), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("content_hash", S(length=64), nullable=False),
        sa.Column("household_id", sa.Integer(), sa.ForeignKey("household.id"), nullable=False),
        sa.Column("captured_at", T(), nullable=True),
        sa.Column("received_at", T(), nullable=False),
    )
    op.create_index("ix_registration_request_user_id", "registration_request", ["user_id"])
    op.create_index("ix_registration_request_household_id", "registration_request", ["household_id"])


def downgrade() -> None:
    op.drop_table("registration_request")
