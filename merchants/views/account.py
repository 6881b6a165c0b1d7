"""A user's own account: change password, set a password from a one-time link. Being built."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("account", __name__)
