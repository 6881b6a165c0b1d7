"""Field limits read from the tables, so a form, an import and a service never disagree with the schema."""

from __future__ import annotations

from functools import cache

from sqlmodel import SQLModel


@cache
def max_length(model: type[SQLModel], field: str) -> int:
    """The ``max_length`` a table declares for a text field (``Field(max_length=…)``)."""
    for item in model.model_fields[field].metadata:
        limit = getattr(item, "max_length", None)
        if limit:
            return int(limit)
    raise KeyError(f"{model.__name__}.{field} declares no max_length")
