"""What every ``choqr`` command shares: its session and the one way it reports a refused rule."""

from __future__ import annotations

from typing import NoReturn

import click

from merchants import db
from merchants.errors import DomainError


def session():  # noqa: ANN201 - a context manager of a Session
    """A session on the app's engine, closed at the end of the command."""
    return db.session_scope(db.get_engine())


def fail(problem: DomainError | str, *, exit_code: int = 2) -> NoReturn:
    """The one way a command reports what stopped it: "Lỗi: <message>" on stderr and an exit code, 2 for a
    refused rule or setting (1 is kept for 'done, but some rows were refused', or a job that failed)."""
    message = problem.message if isinstance(problem, DomainError) else problem
    click.echo(f"Lỗi: {message}", err=True)
    raise SystemExit(exit_code)
