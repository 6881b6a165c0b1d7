"""Users, their roles and areas, set-password links and API tokens (administrators). Being built."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")
