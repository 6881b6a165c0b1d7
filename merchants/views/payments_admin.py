"""Payments pages: the sources admin page, statement uploads and the households to visit."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("payments", __name__)
