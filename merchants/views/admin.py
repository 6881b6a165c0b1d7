"""Setting up a programme (administrators): getting started, programme settings, official units, audit."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
