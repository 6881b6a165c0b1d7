"""What prints is the stored symbol: the path cache may hold another symbol of the same payload, never used."""

from __future__ import annotations

import pypdfium2
import qrcode
import qrcode.constants
from conftest import make_card, read_qrs, render

from printouts import get_layout
from printouts.design import design_for
from printouts.qrpath import _PATHS, _PATHS_MAX, qr_path
from qr import QUIET_ZONE, build_payload, pack_matrix, qr_matrix

SCALE = 8  # pixels per PDF point: about 22 px per module on an A6 placard
Matrix = tuple[tuple[bool, ...], ...]


def _other_mask(payload: str) -> Matrix:
    """Another valid level-Q symbol of ``payload``: same version, another of the eight masks."""
    chosen = qr_matrix(payload)
    for mask in range(8):
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=0, mask_pattern=mask)
        code.add_data(payload)
        code.make(fit=True)
        matrix = tuple(tuple(bool(m) for m in row) for row in code.get_matrix())
        if len(matrix) == len(chosen) and matrix != chosen:
            return matrix
    raise AssertionError("no other mask gives another symbol")


def _drawn_grid(pdf: bytes, size: int) -> Matrix:
    """The module grid drawn on an A6 placard, sampled at each module's centre from the rendered page."""
    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=SCALE).to_pil().convert("L")
    total = size + 2 * QUIET_ZONE
    x, y, side = design_for(get_layout("a6").placard, total).qr
    step, top = side / total, page.get_height() - (y + side)

    def dark(row: int, col: int) -> bool:
        px = (x + (QUIET_ZONE + col + 0.5) * step) * SCALE
        py = (top + (QUIET_ZONE + row + 0.5) * step) * SCALE
        return image.getpixel((int(px), int(py))) < 128

    return tuple(tuple(dark(r, c) for c in range(size)) for r in range(size))


def test_the_stored_symbol_prints_although_the_cache_holds_another_symbol_of_the_same_payload():
    payload = build_payload(bin="970436", account="0011001932418")
    encoded, stored = qr_matrix(payload), _other_mask(payload)
    render([make_card(0, payload=payload)], "a6")  # the cache now holds the symbol encoded from the payload

    pdf = render([make_card(0, payload=payload, qr_modules=pack_matrix(stored))], "a6")
    assert _drawn_grid(pdf, len(stored)) == stored != encoded
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=150 / 72).to_pil()
    assert [b.text for b in read_qrs(image)] == [payload]  # a real, readable symbol of the payload


def test_the_encoded_symbol_prints_for_a_card_without_one_after_another_was_stored():
    payload = build_payload(bin="970407", account="19036521478899")
    stored = _other_mask(payload)
    render([make_card(1, payload=payload, qr_modules=pack_matrix(stored))], "a6")
    pdf = render([make_card(1, payload=payload)], "a6")
    assert _drawn_grid(pdf, len(stored)) == qr_matrix(payload) != stored


def test_the_path_cache_is_keyed_by_symbol_and_bounded():
    payload = build_payload(bin="970418", account="21510000000001")
    stored = pack_matrix(_other_mask(payload))
    assert qr_path(payload, stored) != qr_path(payload)
    for index in range(_PATHS_MAX + 10):
        qr_path(build_payload(bin="970422", account=f"{9704031101234567 + index}"))
    assert len(_PATHS) == _PATHS_MAX
