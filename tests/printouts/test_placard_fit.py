"""Text fitting: whatever the input, the fitted lines stay inside their box."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from printouts.fonts import BOLD, em_width
from printouts.layouts import MM
from printouts.textfit import BOTTOM, PITCH, TOP, TextBox, fit

BOX = TextBox(0, 0, 30 * MM, 8 * MM, BOLD, 9, 5, max_lines=2)
WORDS = st.sampled_from(
    [
        "NGUYEN",
        "Nguyễn",
        "Thị",
        "Đào",
        "CÔNG",
        "TY",
        "TNHH",
        "THƯƠNG",
        "MẠI",
        "Hoàng",
        "Phát",
        "Rau",
        "củ",
        "quả",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGH",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(WORDS, min_size=1, max_size=25))
def test_fitted_text_never_leaves_its_box(words: list[str]) -> None:
    size, lines = fit(" ".join(words), BOX)
    assert BOX.min_size <= size <= BOX.max_size
    assert 1 <= len(lines) <= BOX.max_lines
    assert (TOP + BOTTOM + (len(lines) - 1) * PITCH) * size <= BOX.h + 1e-6
    for line in lines:
        assert em_width(line, BOX.font) * size <= BOX.w + 1e-6


def test_a_name_that_fits_on_one_line_keeps_the_largest_size() -> None:
    assert fit("NGUYEN THI DAO", BOX) == (9, ("NGUYEN THI DAO",))


def test_a_long_name_wraps_into_balanced_lines_before_shrinking_far() -> None:
    size, lines = fit("CONG TY TNHH THUONG MAI DICH VU NGUYEN HOANG PHAT", BOX)
    assert len(lines) == 2 and size > BOX.min_size
    assert abs(len(lines[0]) - len(lines[1])) <= 8
    assert " ".join(lines) == "CONG TY TNHH THUONG MAI DICH VU NGUYEN HOANG PHAT"


def test_text_too_long_for_the_box_at_the_smallest_size_is_cut_with_an_ellipsis() -> None:
    size, lines = fit(" ".join(["THƯƠNG"] * 40), BOX)
    assert size == BOX.min_size and len(lines) == 2 and lines[-1].endswith("…")
