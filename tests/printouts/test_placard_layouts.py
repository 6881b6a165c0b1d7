"""Sheet layouts: named sizes, cut marks outside the placards, the printer's blank border, the 1 mm rule."""

from __future__ import annotations

import io

import pytest
from conftest import DPI, make_card, pages, render

from printouts import (
    A4,
    A5,
    A6,
    LAYOUTS,
    MIN_MODULE,
    MM,
    PRINTER_MARGIN,
    ModuleTooSmall,
    UnknownLayout,
    qr_module_mm,
    render_placards,
)

PX = DPI / 72


def test_the_six_layouts_are_offered() -> None:
    assert list(LAYOUTS) == ["a6", "a5", "a4", "a4-2up", "a4-4up", "a4-8up"]
    assert [LAYOUTS[name].per_sheet for name in LAYOUTS] == [1, 1, 1, 2, 4, 8]


@pytest.mark.parametrize(("name", "size"), [("a6", A6), ("a5", A5), ("a4", A4)])
def test_single_layouts_print_one_placard_per_page_of_that_size(name: str, size: tuple[float, float]) -> None:
    assert LAYOUTS[name].sheet == size == LAYOUTS[name].placard


@pytest.mark.parametrize("name", ["a4-2up", "a4-4up", "a4-8up"])
def test_imposed_placards_keep_clear_of_each_other_and_of_the_printer_margin(name: str) -> None:
    layout = LAYOUTS[name]
    width, height = layout.placard
    sheet_w, sheet_h = layout.sheet
    boxes = [(x, y, x + width, y + height) for x, y in layout.cells()]
    for left, bottom, right, top in boxes:
        assert left > PRINTER_MARGIN and bottom > PRINTER_MARGIN
        assert right < sheet_w - PRINTER_MARGIN and top < sheet_h - PRINTER_MARGIN
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_nothing_prints_within_five_millimetres_of_the_sheet_edge(name: str) -> None:
    layout = LAYOUTS[name]
    page = pages(render([make_card(i) for i in range(layout.per_sheet)], name))[0]
    image = page.image.convert("L")
    border = int(PRINTER_MARGIN * PX) + 1
    w, h = image.size
    for box in ((0, 0, w, border), (0, h - border, w, h), (0, 0, border, h), (w - border, 0, w, h)):
        assert image.crop(box).getextrema()[0] >= 250, box


@pytest.mark.parametrize("name", ["a4-2up", "a4-4up", "a4-8up"])
def test_every_placard_corner_has_cut_marks_outside_the_placard(name: str) -> None:
    layout = LAYOUTS[name]
    page = pages(render([make_card(i) for i in range(layout.per_sheet)], name))[0]
    image = page.image.convert("L")
    width, height = layout.placard
    reach = 4 * MM * PX  # marks run from 1.5 to 4.5 mm outside the trim line
    for x, y in layout.cells():
        for cx, inward_x in ((x, 1), (x + width, -1)):
            for cy, inward_y in ((y, -1), (y + height, 1)):  # image y grows downwards
                px, py = cx * PX, (page.height_pt - cy) * PX
                around = image.crop((int(px - reach), int(py - reach), int(px + reach), int(py + reach)))
                assert around.getextrema()[0] < 128, (cx / MM, cy / MM)  # a mark is there...
                corner = _box(px, py, px + inward_x * 3 * MM * PX, py + inward_y * 3 * MM * PX)
                assert image.crop(corner).getextrema()[0] >= 250  # ...but nothing inside the placard corner


def _box(x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
    """A crop box from two opposite corners in any order."""
    return int(min(x0, x1)), int(min(y0, y1)), int(max(x0, x1)), int(max(y0, y1))


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_static_vietqr_payloads_print_with_modules_of_at_least_one_millimetre(name: str) -> None:
    for index in range(9):  # includes a 19-character card number, the longest static payload
        assert qr_module_mm(name, make_card(index).payload) >= MIN_MODULE / MM


def test_a_payload_too_dense_for_eight_up_is_refused_before_anything_is_written() -> None:
    dense = make_card(0, payload="00020101021238" + "x" * 100)  # version 9: 61 modules with quiet zones
    out = io.BytesIO()
    with pytest.raises(ModuleTooSmall, match=r"'a4-8up'.*1 mm") as caught:
        render_placards([make_card(1), dense], out, layout="a4-8up")
    assert isinstance(caught.value, ValueError)
    assert "CQ-2025-000001" in str(caught.value)
    assert out.getvalue() == b""
    render_placards([dense], io.BytesIO(), layout="a4-2up")  # a bigger placard takes it


def test_an_unknown_layout_is_refused_with_a_message_naming_it() -> None:
    with pytest.raises(UnknownLayout, match="'a3'") as caught:
        render_placards([make_card(0)], io.BytesIO(), layout="a3")
    assert isinstance(caught.value, ValueError)
    assert "a4-8up" in str(caught.value)  # and the choices
