"""programme set-up: official unit types and closing, renames, market targets, closing stalls, settings,
set-password links, token use, audit subjects

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:30:00

A province's programme sets itself up from the official list of units (GSO codes): units are typed (xã,
phường, đặc khu), searched without diacritics, and closed (never deleted) when a newer list drops them.
Markets carry their own coverage target; stalls are closed, not deleted, once they held a household.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    for table, default in (("province", "Tỉnh"), ("commune", "Xã")):
        with op.batch_alter_table(table) as b:
            b.add_column(sa.Column("type", S(length=20), nullable=False, server_default=default))
            b.add_column(sa.Column("search_text", S(length=200), nullable=False, server_default=""))
            b.add_column(sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_table(
        "area_rename",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("level", S(length=10), nullable=False),
        sa.Column("code", S(length=20), nullable=False),
        sa.Column("old_name", S(length=80), nullable=False),
        sa.Column("new_name", S(length=80), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
    )
    op.create_index("ix_area_rename_code", "area_rename", ["code"])
    with op.batch_alter_table("market") as b:
        b.add_column(sa.Column("target_percent", sa.Integer(), nullable=True))
        b.add_column(sa.Column("target_date", sa.Date(), nullable=True))
        b.add_column(sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        b.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("stall") as b:
        b.add_column(sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_table(
        "programme_settings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", S(length=120), nullable=False),
        sa.Column("target_percent", sa.Integer(), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    with op.batch_alter_table("user") as b:
        b.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("apitoken") as b:
        b.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        b.add_column(sa.Column("last_used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        b.add_column(sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        b.create_foreign_key("fk_apitoken_created_by", "user", ["created_by_id"], ["id"])
    op.create_table(
        "password_link",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("token_hash", S(length=64), nullable=False, unique=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_password_link_user_id", "password_link", ["user_id"])
    # audit_log refuses UPDATE through its triggers; adding columns is DDL and leaves rows as they were.
    op.add_column("audit_log", sa.Column("subject", S(length=80), nullable=False, server_default=""))
    op.add_column("audit_log", sa.Column("source_ip", S(length=45), nullable=True))
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_subject", "audit_log")
    with op.batch_alter_table("audit_log") as b:
        b.drop_column("source_ip")
        b.drop_column("subject")
    op.drop_index("ix_password_link_user_id", "password_link")
    op.drop_table("password_link")
    with op.batch_alter_table("apitoken") as b:
        b.drop_constraint("fk_apitoken_created_by", type_="foreignkey")
        for col in ("expires_at", "last_used_at", "created_by_id"):
            b.drop_column(col)
    with op.batch_alter_table("user") as b:
        b.drop_column("version")
    op.drop_table("programme_settings")
    with op.batch_alter_table("stall") as b:
        b.drop_column("closed_at")
    with op.batch_alter_table("market") as b:
        for col in ("version", "closed_at", "target_date", "target_percent"):
            b.drop_column(col)
    op.drop_index("ix_area_rename_code", "area_rename")
    op.drop_table("area_rename")
    for table in ("commune", "province"):
        with op.batch_alter_table(table) as b:
            for col in ("closed_at", "search_text", "type"):
                b.drop_column(col)
