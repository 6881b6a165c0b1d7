"""Coverage arithmetic: pure functions over counts, the one definition used by every page and export.

Coverage = active households holding an issued QR / active households trading at the market. The
percentage is floored so a report never overstates: 356/364 is 97.8%, reported as 97%.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from merchants import status as st


def floor_percent(covered: int, total: int) -> int | None:
    """Whole-number percentage rounded down; ``None`` when there is nothing to divide by."""
    if covered < 0 or total < 0 or covered > total:
        raise ValueError(f"coverage: need 0 <= covered <= total (got {covered}/{total})")
    if total == 0:
        return None
    return covered * 100 // total


@dataclass(frozen=True)
class Coverage:
    covered: int
    total: int

    @property
    def percent(self) -> int | None:
        return floor_percent(self.covered, self.total)

    @property
    def missing(self) -> int:
        return self.total - self.covered

    def label(self, unit: str = "hộ") -> str:
        """'356/364 hộ (97%)'; without a percentage when the market has no households yet."""
        pct = self.percent
        return f"{self.covered}/{self.total} {unit}" + (f" ({pct}%)" if pct is not None else "")

    def band(self, target: int = 100) -> str:
        """Colour band for a figure against the target: 'good', 'fair', 'low' or 'none'."""
        pct = self.percent
        if pct is None:
            return "none"
        if pct >= target:
            return "good"
        return "fair" if pct >= target * 0.8 else "low"


@dataclass(frozen=True)
class Funnel:
    """Households that reached each onboarding step (cumulative: a verified one was also printed)."""

    registered: int
    account_opened: int
    qr_issued: int
    placard_printed: int
    placard_verified: int

    def steps(self) -> list[tuple[str, int]]:
        return [(s, getattr(self, s)) for s in st.ORDER]


def coverage_from_status_counts(counts: Mapping[str, int]) -> Coverage:
    """Coverage from active-household counts per status (as one GROUP BY returns them)."""
    total = sum(counts.values())
    covered = sum(n for s, n in counts.items() if st.is_covered(s))
    return Coverage(covered=covered, total=total)


def funnel_from_status_counts(counts: Mapping[str, int]) -> Funnel:
    """Cumulative funnel from per-status counts of active households."""
    return Funnel(**{step: sum(counts.get(s, 0) for s in st.statuses_from(step)) for step in st.ORDER})
