"""placards pages (filled in by their issue)."""

from flask import Blueprint

bp = Blueprint("placards", __name__)
