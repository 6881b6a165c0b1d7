"""server-side sessions and sign-in attempts

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-20 09:00:00

``user_session``: the session cookie now carries only a random id; the row (its SHA-256) must exist and be live,
so a cookie copied before sign-out, disabling or a password change stops working. Cookies signed before this
migration carry no such id and are simply signed out once.
``login_attempt``: failed sign-ins counted in the database, so throttling holds across gunicorn workers.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", S(length=64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("created_at", T(), nullable=False),
        sa.Column("last_seen_at", T(), nullable=False),
        sa.Column("ip", S(length=45), nullable=True),
        sa.Column("user_agent", S(length=120), nullable=False),
        sa.Column("ended_at", T(), nullable=True),
        sa.Column("end_reason", S(length=20), nullable=True),
    )
    op.create_index("ix_user_session_user_id", "user_session", ["user_id"])
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", T(), nullable=False),
        sa.Column("username", S(length=80), nullable=False),
        sa.Column("ip", S(length=45), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_login_attempt_at", "login_attempt", ["at"])
    op.create_index("ix_login_attempt_username_at", "login_attempt", ["username", "at"])
    op.create_index("ix_login_attempt_ip_at", "login_attempt", ["ip", "at"])


def downgrade() -> None:
    op.drop_table("login_attempt")
    op.drop_table("user_session")
