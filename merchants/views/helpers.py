"""Small helpers every blueprint shares: the acting viewer, capability guards, form error mapping."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, g
from flask_babel import gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from merchants.db import get_session
from merchants.errors import DomainError
from merchants.scope import Viewer, viewer_for


def viewer() -> Viewer:
    """The signed-in user's scope, loaded once per request."""
    if "viewer" not in g:
        g.viewer = viewer_for(get_session(), current_user._get_current_object())
    return g.viewer


def requires(capability: str) -> Callable:
    """Sign-in plus a capability of the user's role; 403 otherwise."""

    def deco(fn: Callable) -> Callable:
        @wraps(fn)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not viewer().can(capability):
                abort(403)
            return fn(*args, **kwargs)

        return wrapper

    return deco


def translated(message: str) -> str:
    """A domain error's Vietnamese message in the user's language (unchanged when the catalog lacks it)."""
    return gettext(message) if message else message


def attach_error(form: FlaskForm, exc: DomainError) -> None:
    """Show a domain error under the form field it names, or at the top of the form."""
    message = translated(exc.message)
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
    else:
        form.form_errors.append(message)
