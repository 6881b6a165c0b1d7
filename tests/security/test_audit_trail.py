"""The audit trail cannot be emptied, even by the database user: TRUNCATE is refused on PostgreSQL as well."""

import pytest
from factories import make_household, make_market
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from merchants.models import AuditLog


def test_truncate_of_the_audit_log_is_refused(session):
    make_household(session, make_market(session))
    before = len(session.exec(select(AuditLog)).all())
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; DELETE is refused by its own trigger (test_households)")
    with pytest.raises(DBAPIError, match="append-only"):
        session.exec(text("TRUNCATE audit_log CASCADE"))
    session.rollback()
    assert len(session.exec(select(AuditLog)).all()) == before
