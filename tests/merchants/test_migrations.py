"""The Alembic history builds exactly the schema the models describe, up and down."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import merchants.models  # noqa: F401 - registers the tables
from merchants import db


def test_migrations_leave_nothing_for_autogenerate_to_add(database_url):
    engine = db.make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diff == []
