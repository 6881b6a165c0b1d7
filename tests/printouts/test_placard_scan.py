"""Every QR printed at every layout scans back to the payload of the placard it sits on."""

from __future__ import annotations

import math

import pytest
from conftest import DPI, make_card, pages, read_qrs, render

from printouts import LAYOUTS, MIN_MODULE, MM, get_layout
from printouts.qrpath import module_count

PX = DPI / 72  # pixels per point


def _cell_of(layout_name: str, x_px: float, y_px: float, page_height: float) -> int:
    """Index (reading order) of the placard cell holding a pixel position."""
    layout = get_layout(layout_name)
    width, height = layout.placard
    for index, (left, bottom) in enumerate(layout.cells()):
        top_px = (page_height - bottom - height) * PX
        if left * PX <= x_px <= (left + width) * PX and top_px <= y_px <= top_px + height * PX:
            return index
    raise AssertionError(f"QR at ({x_px}, {y_px}) px lies in no placard cell of {layout_name}")


@pytest.mark.parametrize("layout_name", list(LAYOUTS))
def test_every_qr_on_every_page_decodes_to_the_payload_of_its_own_placard(layout_name: str) -> None:
    layout = LAYOUTS[layout_name]
    count = layout.per_sheet + 1 if layout.imposed else 3  # a full sheet and a partly filled one
    cards = [make_card(i) for i in range(count)]
    rendered = pages(render(cards, layout_name))
    assert len(rendered) == math.ceil(count / layout.per_sheet)

    seen = 0
    for page_index, page in enumerate(rendered):
        on_sheet = cards[page_index * layout.per_sheet : (page_index + 1) * layout.per_sheet]
        codes = read_qrs(page.image)
        assert len(codes) == len(on_sheet)
        for code in codes:
            corners = code.position
            cx = (corners.top_left.x + corners.bottom_right.x) / 2
            cy = (corners.top_left.y + corners.bottom_right.y) / 2
            cell = _cell_of(layout_name, cx, cy, page.height_pt)
            expected = on_sheet[cell]
            assert code.text == expected.payload
            left, bottom = layout.cells()[cell]
            beside = page.text_in(left, bottom, left + layout.placard[0], bottom + layout.placard[1])
            assert expected.stall_code in beside and expected.serial in beside
            seen += 1
    assert seen == count


@pytest.mark.parametrize("layout_name", list(LAYOUTS))
def test_printed_modules_measure_at_least_one_millimetre(layout_name: str) -> None:
    longest = make_card(8)  # 19-character card number: the longest static VietQR payload
    page = pages(render([longest], layout_name))[0]
    (code,) = read_qrs(page.image)
    corners = code.position
    symbol_px = corners.top_right.x - corners.top_left.x
    data_modules = module_count(longest.payload) - 8  # position excludes both 4-module quiet zones
    module_mm = symbol_px / data_modules / (DPI / 25.4)
    assert module_mm >= MIN_MODULE / MM * 0.97  # tolerance: one pixel of rasterisation per side


def test_a_sample_placard_still_scans_under_its_watermark() -> None:
    card = make_card(2, sample=True)
    page = pages(render([card], "a6"))[0]
    assert [code.text for code in read_qrs(page.image)] == [card.payload]
