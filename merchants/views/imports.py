"""Spreadsheet import pages (filled in by their issue)."""

from flask import Blueprint

bp = Blueprint("imports", __name__)
