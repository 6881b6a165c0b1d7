"""What every ``choqr`` command shares: its session and the one way it reports a refused rule."""

from __future__ import annotations

from typing import NoReturn

import click

from merchants import db
from merchants.errors import DomainError


def session():  # noqa: ANN201 - a context manager of a Session
    """A session on the app's engine, closed at the end of the command."""
    return db.session_scope(db.get_engine())


def fail(exc: DomainError) -> NoReturn:
    """A refused rule: its message on stderr and exit code 2 (1 is kept for 'done, but some rows were refused')."""
    click.echo(f"Lỗi: {exc.message}", err=True)
    raise SystemExit(2)
