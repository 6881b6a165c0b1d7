"""reports pages (filled in by their issue)."""

from flask import Blueprint

bp = Blueprint("reports", __name__)
