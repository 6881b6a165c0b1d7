"""Folding Vietnamese to uppercase printable ASCII, the only text object 62 and a small QR allow."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qr import fold_ascii, strip_edges


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Nguyễn Thị Đào", "NGUYEN THI DAO"),
        ("Tiền chợ", "TIEN CHO"),
        ("đậu phụ ĐÀ LẠT", "DAU PHU DA LAT"),
        ("Bún bò Huế", "BUN BO HUE"),
        ("  rau\tmuống \n xào  ", "RAU MUONG XAO"),
        ("Cà phê ☕ sữa đá", "CA PHE SUA DA"),
        ("Thanh toán #12/3 (50%)", "THANH TOAN #12/3 (50%)"),
        ("ＦＵＬＬ width", "WIDTH"),
        ("", ""),
        ("   ", ""),
        ("NGUYEN VAN A", "NGUYEN VAN A"),
    ],
)
def test_fold_ascii_strips_marks_maps_d_stroke_uppercases_and_collapses_spaces(text: str, folded: str) -> None:
    assert fold_ascii(text) == folded


def test_fold_ascii_gives_the_same_result_for_composed_and_decomposed_input() -> None:
    composed = "Nguyễn Thị Đào"
    decomposed = "Nguye\u0302\u0303n Thi\u0323 \u0110a\u0300o"
    assert fold_ascii(composed) == fold_ascii(decomposed) == "NGUYEN THI DAO"


@given(st.text())
def test_fold_ascii_always_returns_trimmed_single_spaced_uppercase_printable_ascii(text: str) -> None:
    folded = fold_ascii(text)
    assert folded.isascii() and folded.isprintable()
    assert folded == folded.upper()
    assert folded == " ".join(folded.split())


@given(st.text())
def test_fold_ascii_is_idempotent(text: str) -> None:
    assert fold_ascii(fold_ascii(text)) == fold_ascii(text)


@pytest.mark.parametrize(
    ("text", "stripped"),
    [
        ("\ufeff000201\r\n", "000201"),
        (" \t000201\x00", "000201"),
        ("\x00\n\ufeff 0002 01 \u3000\x00", "0002 01"),
        ("000201", "000201"),
        ("\x00\ufeff \n", ""),
    ],
)
def test_strip_edges_drops_whitespace_nul_and_bom_around_but_not_inside(text: str, stripped: str) -> None:
    assert strip_edges(text) == stripped


def test_strip_edges_knows_every_character_python_calls_whitespace() -> None:
    spaces = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
    assert strip_edges(f"{spaces}x{spaces}") == "x"
