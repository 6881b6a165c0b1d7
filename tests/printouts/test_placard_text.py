"""What a person reads on the placard: Vietnamese text intact, the sample warning, no overflow or overlap."""

from __future__ import annotations

import io

import pytest
from conftest import CHECK_NAME, DPI, make_card, pages, read_qrs, render

from printouts import LAYOUTS, PlacardData, render_placards
from printouts.qrpath import module_count

LONG_MARKET = "CÔNG TY TNHH THƯƠNG MẠI DỊCH VỤ NGUYỄN HOÀNG PHÁT"
LONG_HOLDER = "HUYNH THI NGOC BICH PHUONG ANH TUYET MAI"  # 40 characters


@pytest.mark.parametrize("layout_name", list(LAYOUTS))
def test_vietnamese_text_extracts_intact_at_every_layout(layout_name: str) -> None:
    card = make_card(0)
    text = pages(render([card], layout_name))[0].text
    for expected in (
        "Nguyễn Thị Đào",
        "NGUYEN THI DAO",
        "Chợ Bến Thành",
        card.stall_code,
        card.serial,
        CHECK_NAME,
        "21/11/2025",
        "Vietcombank",
        "•••• 2418",
        "Rau củ quả",
        "VietQR",
    ):
        assert expected in text


def test_decomposed_input_prints_as_composed_text() -> None:
    decomposed = "Nguye\u0302\u0303n Thi\u0323 \u0110a\u0300o"
    text = pages(render([make_card(0, owner_name=decomposed)], "a6"))[0].text
    assert "Nguyễn Thị Đào" in text


def test_a_sample_placard_carries_the_watermark_and_the_not_for_payment_line() -> None:
    sample, real = pages(render([make_card(0, sample=True), make_card(1)], "a6"))
    assert "MẪU – KHÔNG DÙNG ĐỂ THANH TOÁN" in sample.text
    assert "MẪU" not in real.text
    assert _pinkish(sample) > 20 * max(_pinkish(real), 100)  # the diagonal mark covers a large area


def _pinkish(page: object) -> int:
    """Pixels tinted by the translucent red watermark (light red, not the dark red warning text)."""
    data = page.image.convert("RGB").tobytes()  # type: ignore[attr-defined]
    pixels = zip(data[0::3], data[1::3], data[2::3], strict=True)
    return sum(1 for r, g, b in pixels if r > 200 and 120 < g < 215 and 120 < b < 215 and r - g > 25)


DENSE = "00020101021238" + "x" * 90  # 57 modules with quiet zones: the 8-up QR grows to keep 1 mm


@pytest.mark.parametrize(
    ("layout_name", "payload"), [(name, None) for name in LAYOUTS] + [("a4-8up", DENSE), ("a4-2up", DENSE)]
)
def test_long_names_stay_inside_their_placard_and_off_the_qr(layout_name: str, payload: str | None) -> None:
    """Every glyph box lies inside its placard's safe area and outside its QR and quiet zone."""
    layout = LAYOUTS[layout_name]
    cards = [
        make_card(
            i,
            market_name=LONG_MARKET,
            holder_name=LONG_HOLDER,
            stall_code="KIOT-1234B",
            owner_name="Công ty TNHH Thương mại Dịch vụ Nguyễn Hoàng Phát",
            goods="Đồ khô, gia vị, tạp hóa",
            **({"payload": payload} if payload else {}),
        )
        for i in range(layout.per_sheet)
    ]
    page = pages(render(cards, layout_name))[0]
    text = page.text
    assert "HUYNH THI NGOC BICH PHUONG ANH" in text and "…" not in text
    modules = module_count(cards[0].payload) - 8
    qr_boxes = [_qr_box_points(code, page.height_pt, modules) for code in read_qrs(page.image)]
    assert len(qr_boxes) == len(cards)
    width, height = layout.placard
    safe = 1.5 * 72 / 25.4
    cells = [(x + safe, y + safe, x + width - safe, y + height - safe) for x, y in layout.cells()]
    textpage = page.textpage
    for index in range(textpage.count_chars()):
        if textpage.get_text_range(index, 1).isspace():
            continue
        left, bottom, right, top = textpage.get_charbox(index)
        assert any(c[0] <= left and c[1] <= bottom and right <= c[2] and top <= c[3] for c in cells), index
        for q_left, q_bottom, q_right, q_top in qr_boxes:
            assert right <= q_left or left >= q_right or top <= q_bottom or bottom >= q_top, index


def _qr_box_points(code: object, page_height: float, modules: int) -> tuple[float, float, float, float]:
    """The QR symbol's square grown by the 4-module quiet zone, in PDF points."""
    corners = code.position  # type: ignore[attr-defined]
    scale = 72 / DPI
    left, right = corners.top_left.x * scale, corners.top_right.x * scale
    top, bottom = page_height - corners.top_left.y * scale, page_height - corners.bottom_left.y * scale
    zone = (right - left) / modules * 4 * 0.95  # 5 % for rasterisation
    return left - zone, bottom - zone, right + zone, top + zone


def test_progress_is_reported_per_placard_and_pages_are_counted() -> None:
    calls: list[tuple[int, int]] = []
    out = io.BytesIO()
    pages_written = render_placards(
        [make_card(i) for i in range(9)],
        out,
        layout="a4-4up",
        on_progress=lambda done, total: calls.append((done, total)),
    )
    assert pages_written == 3
    assert calls == [(i, 9) for i in range(1, 10)]
    assert out.getvalue().startswith(b"%PDF")


def test_a_placard_field_left_blank_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="stall_code"):
        make_card(0, stall_code="  ")


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(ValueError, match="placards"):
        render_placards([], io.BytesIO())


def test_placard_data_is_frozen() -> None:
    card: PlacardData = make_card(0)
    with pytest.raises(AttributeError):
        card.serial = "x"  # type: ignore[misc]
