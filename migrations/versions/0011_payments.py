"""payments received: sources, credit events and the tallies reports read

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-22 09:00:00

``payment_source`` (+ ``payment_source_scope``): who may send credits (SePay or Casso webhooks, statement files) and
for which areas; a SePay key is kept as its SHA-256, a Casso key as itself (HMAC needs it).
``payment_event``: one credit per (source, provider id), with only account, household, amount, time and reference.
``household_payment``, ``payment_market_day``, ``payment_week``, ``payment_market_week``: first/last credit per
household, households by the day of their last credit and weekly receiving households per market, written with
each event so a country's report reads no events at all.
``ix_bankaccount_account_number``: a credit names the account by number only.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    # Credits find the account by its number alone; the unique index (bin, account_number) cannot serve that.
    op.create_index("ix_bankaccount_account_number", "bankaccount", ["account_number"])
    op.create_table(
        "payment_source",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", S(length=60), nullable=False, unique=True),
        sa.Column("kind", S(length=10), nullable=False),
        sa.Column("secret_hash", S(length=64), nullable=True, unique=True),
        sa.Column("hmac_key", S(length=128), nullable=True),
        sa.Column("created_at", T(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("rotated_at", T(), nullable=True),
        sa.Column("revoked_at", T(), nullable=True),
        sa.Column("last_event_at", T(), nullable=True),
        sa.Column("counted_on", sa.Date(), nullable=True),
        sa.Column("rejected_today", sa.Integer(), nullable=False),
        sa.Column("rejected_total", sa.Integer(), nullable=False),
        sa.Column("unknown_today", sa.Integer(), nullable=False),
        sa.Column("unknown_total", sa.Integer(), nullable=False),
        sa.Column("stored_total", sa.Integer(), nullable=False),
    )
    op.create_table(
        "payment_source_scope",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("payment_source.id"), nullable=False),
        sa.Column("province_id", sa.Integer(), sa.ForeignKey("province.id"), nullable=True),
        sa.Column("commune_id", sa.Integer(), sa.ForeignKey("commune.id"), nullable=True),
        sa.Column("market_id", sa.Integer(), sa.ForeignKey("market.id"), nullable=True),
    )
    op.create_index("ix_payment_source_scope_source_id", "payment_source_scope", ["source_id"])
    op.create_table(
        "payment_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("payment_source.id"), nullable=False),
        sa.Column("provider_id", S(length=64), nullable=False),
        sa.Column("bank_account_id", sa.Integer(), sa.ForeignKey("bankaccount.id"), nullable=False),
        sa.Column("household_id", sa.Integer(), sa.ForeignKey("household.id"), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", T(), nullable=False),
        sa.Column("reference", S(length=64), nullable=False),
        sa.Column("received_at", T(), nullable=False),
        sa.UniqueConstraint("source_id", "provider_id", name="uq_payment_event_source_provider"),
    )
    op.create_index("ix_payment_event_household_occurred", "payment_event", ["household_id", "occurred_at"])
    op.create_table(
        "household_payment",
        sa.Column("household_id", sa.Integer(), sa.ForeignKey("household.id"), primary_key=True),
        sa.Column("market_id", sa.Integer(), sa.ForeignKey("market.id"), nullable=False),
        sa.Column("first_at", T(), nullable=False),
        sa.Column("last_at", T(), nullable=False),
    )
    op.create_index("ix_household_payment_market_last", "household_payment", ["market_id", "last_at"])
    op.create_table(
        "payment_week",
        sa.Column("household_id", sa.Integer(), sa.ForeignKey("household.id"), primary_key=True),
        sa.Column("week", sa.Date(), primary_key=True),
    )
    op.create_table(
        "payment_market_day",
        sa.Column("market_id", sa.Integer(), sa.ForeignKey("market.id"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("households", sa.Integer(), nullable=False),
    )
    op.create_index("ix_payment_market_day_market", "payment_market_day", ["market_id", "day", "households"])
    op.create_table(
        "payment_market_week",
        sa.Column("market_id", sa.Integer(), sa.ForeignKey("market.id"), primary_key=True),
        sa.Column("week", sa.Date(), primary_key=True),
        sa.Column("households", sa.Integer(), nullable=False),
    )
    op.create_index("ix_payment_market_week_week", "payment_market_week", ["week", "market_id", "households"])


def downgrade() -> None:
    op.drop_table("payment_market_week")
    op.drop_table("payment_market_day")
    op.drop_table("payment_week")
    op.drop_table("household_payment")
    op.drop_table("payment_event")
    op.drop_table("payment_source_scope")
    op.drop_table("payment_source")
    op.drop_index("ix_bankaccount_account_number", table_name="bankaccount")
