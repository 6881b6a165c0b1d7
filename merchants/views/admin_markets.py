"""Markets, zones and stalls of a programme (administrators). Being built."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin_markets", __name__, url_prefix="/admin/markets")
