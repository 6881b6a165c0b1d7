"""Onboarding status of a household: the one place that says which moves are allowed.

registered → account_opened → qr_issued → placard_printed → placard_verified. Changing the bank
account drops a household back to qr_issued (its new QR needs a new placard).
"""

from __future__ import annotations

from typing import Final

REGISTERED: Final = "registered"
ACCOUNT_OPENED: Final = "account_opened"
QR_ISSUED: Final = "qr_issued"
PLACARD_PRINTED: Final = "placard_printed"
PLACARD_VERIFIED: Final = "placard_verified"

ORDER: Final = (REGISTERED, ACCOUNT_OPENED, QR_ISSUED, PLACARD_PRINTED, PLACARD_VERIFIED)
COVERED: Final = frozenset({QR_ISSUED, PLACARD_PRINTED, PLACARD_VERIFIED})

LABELS_VI: Final = {
    REGISTERED: "Đã đăng ký",
    ACCOUNT_OPENED: "Đã có tài khoản",
    QR_ISSUED: "Đã cấp QR",
    PLACARD_PRINTED: "Đã in bảng QR",
    PLACARD_VERIFIED: "Đã kiểm tra bảng",
}

_ALLOWED: Final = {
    REGISTERED: {ACCOUNT_OPENED},
    ACCOUNT_OPENED: {QR_ISSUED},
    QR_ISSUED: {PLACARD_PRINTED, QR_ISSUED},
    PLACARD_PRINTED: {PLACARD_PRINTED, PLACARD_VERIFIED, QR_ISSUED},
    PLACARD_VERIFIED: {PLACARD_PRINTED, PLACARD_VERIFIED, QR_ISSUED},
}


class StatusTransitionError(ValueError):
    """A move the onboarding workflow does not allow, e.g. printing before a QR exists."""

    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"status: cannot move from '{current}' to '{target}'")
        self.current, self.target = current, target


def check_transition(current: str, target: str) -> str:
    """Return ``target`` if the workflow allows moving there from ``current``; raise otherwise."""
    if target not in _ALLOWED.get(current, set()):
        raise StatusTransitionError(current, target)
    return target


def is_covered(status: str) -> bool:
    """Coverage counts a household once it holds an issued QR, whatever happened after."""
    return status in COVERED


def reached(status: str, step: str) -> bool:
    """Whether a household at ``status`` has passed ``step`` of the funnel."""
    return ORDER.index(status) >= ORDER.index(step)


def statuses_from(step: str) -> tuple[str, ...]:
    """The statuses at or beyond ``step``: what a funnel query counts for that step."""
    return ORDER[ORDER.index(step) :]
