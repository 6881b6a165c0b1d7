"""api pages (filled in by their issue)."""

from flask import Blueprint

bp = Blueprint("api", __name__)
