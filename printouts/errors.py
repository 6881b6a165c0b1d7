"""Errors raised while printing placards: each is a ValueError that names the field and the value received."""

from __future__ import annotations


class PrintoutError(ValueError):
    """Base of every printouts error, so callers (the web views) can catch one type."""


class UnknownLayout(PrintoutError):
    """The requested sheet layout does not exist."""

    def __init__(self, name: object, known: list[str]) -> None:
        self.name = name
        super().__init__(f"layout: unknown layout {name!r}; choose one of {', '.join(known)}")


class ModuleTooSmall(PrintoutError):
    """The QR would print with modules under the minimum size that phone cameras read reliably."""

    def __init__(self, layout: str, serial: str, module_mm: float, minimum_mm: float) -> None:
        self.layout = layout
        self.module_mm = module_mm
        super().__init__(
            f"payload: QR module of placard {serial!r} would print at {module_mm:.2f} mm at layout "
            f"{layout!r}, under the {minimum_mm:g} mm minimum; use a larger layout or a shorter payload"
        )


class PlacardFieldError(PrintoutError):
    """A placard field is missing or of the wrong kind."""

    def __init__(self, field: str, value: object, rule: str) -> None:
        self.field = field
        super().__init__(f"{field}: {rule} (got {value!r})")
