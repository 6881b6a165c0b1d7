"""Vietnam time: stored timestamps are UTC, people read dates in UTC+7."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

VN_TZ = timezone(timedelta(hours=7))


def to_vn(value: datetime) -> datetime:
    """A stored timestamp (aware, or naive UTC from SQLite) in Vietnam time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(VN_TZ)


def vn_date(value: datetime) -> date:
    """The calendar day in Vietnam of a stored timestamp (an issue at 23:30 UTC is the next day there)."""
    return to_vn(value).date()


def vn_today() -> date:
    return datetime.now(VN_TZ).date()
