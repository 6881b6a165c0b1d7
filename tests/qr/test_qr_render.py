"""Rendering and decoding: every symbol ChoQR draws must scan back to the exact payload."""

from __future__ import annotations

import io
import re
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw
from qr_vectors import V2_DYNAMIC_ACCOUNT, V4_STATIC_ACCOUNT

from qr import (
    QUIET_ZONE,
    FieldError,
    ImageError,
    VietQRError,
    build_payload,
    decode_image,
    png_bytes,
    qr_matrix,
    svg_text,
)

SVG = "{http://www.w3.org/2000/svg}"


def test_matrix_is_square_without_quiet_zone_and_has_finder_patterns() -> None:
    matrix = qr_matrix(V4_STATIC_ACCOUNT)
    size = len(matrix)
    assert all(len(row) == size for row in matrix)
    assert (size - 17) % 4 == 0  # a QR symbol of version v is 17 + 4v modules wide
    assert matrix[0][:7] == (True,) * 7 and matrix[6][:7] == (True,) * 7
    assert matrix[1][1:6] == (False,) * 5


def test_matrix_is_memoised_for_the_same_payload_and_level_however_it_is_asked() -> None:
    first = qr_matrix(V4_STATIC_ACCOUNT, ec="M")
    assert qr_matrix(V4_STATIC_ACCOUNT, ec="M") is first
    assert qr_matrix(V4_STATIC_ACCOUNT) is qr_matrix(V4_STATIC_ACCOUNT, ec="Q")
    assert qr_matrix(V4_STATIC_ACCOUNT) is not first


def test_higher_error_correction_never_gives_a_smaller_symbol() -> None:
    sizes = [len(qr_matrix(V4_STATIC_ACCOUNT, ec=ec)) for ec in "LMQH"]
    assert sizes == sorted(sizes)


def test_folded_uppercase_payload_gives_a_smaller_symbol_than_lowercase() -> None:
    upper = build_payload(bin="970403", account="0011012345678", amount=180000, purpose="thanh toan don hang")
    assert len(qr_matrix(upper)) < len(qr_matrix(V2_DYNAMIC_ACCOUNT))


def test_png_is_one_bit_and_sized_by_modules_scale_and_quiet_zone() -> None:
    image = Image.open(io.BytesIO(png_bytes(V4_STATIC_ACCOUNT, scale=3)))
    modules = len(qr_matrix(V4_STATIC_ACCOUNT)) + 2 * QUIET_ZONE
    assert image.format == "PNG" and image.mode == "1"
    assert image.size == (modules * 3, modules * 3)
    assert image.getpixel((0, 0)) == 255  # quiet zone is white
    assert image.getpixel((QUIET_ZONE * 3, QUIET_ZONE * 3)) == 0  # finder pattern corner is dark


@pytest.mark.parametrize("ec", ["L", "M", "Q", "H"])
def test_png_decodes_back_to_the_exact_payload_at_every_level(ec: str) -> None:
    assert decode_image(png_bytes(V2_DYNAMIC_ACCOUNT, ec=ec, scale=4)) == [V2_DYNAMIC_ACCOUNT]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    account=st.text("0123456789", min_size=6, max_size=19),
    amount=st.none() | st.integers(1, 10**13 - 1),
    purpose=st.none() | st.text(max_size=25),
)
def test_any_built_payload_survives_png_and_decode_image(account: str, amount: int | None, purpose: str | None) -> None:
    try:
        payload = build_payload(bin="970418", account=account, amount=amount, purpose=purpose)
    except FieldError:
        return
    assert decode_image(png_bytes(payload, scale=3)) == [payload]


def test_decode_image_accepts_a_pil_image_in_any_mode() -> None:
    image = Image.open(io.BytesIO(png_bytes(V4_STATIC_ACCOUNT))).convert("RGB")
    assert decode_image(image) == [V4_STATIC_ACCOUNT]
    assert decode_image(image.convert("P")) == [V4_STATIC_ACCOUNT]


def test_decode_image_reads_a_qr_drawn_on_a_transparent_background() -> None:
    grey = Image.open(io.BytesIO(png_bytes(V4_STATIC_ACCOUNT))).convert("L")
    transparent = Image.new("RGBA", grey.size, (0, 0, 0, 0))
    transparent.putalpha(grey.point(lambda v: 255 - v))  # black where dark, clear elsewhere
    assert decode_image(transparent) == [V4_STATIC_ACCOUNT]


def test_decode_image_returns_an_empty_list_for_a_blank_image() -> None:
    blank = io.BytesIO()
    Image.new("L", (120, 120), 255).save(blank, format="PNG")
    assert decode_image(blank.getvalue()) == []


@pytest.mark.parametrize("data", [b"", b"not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20])
def test_decode_image_raises_vietqr_error_for_unreadable_bytes(data: bytes) -> None:
    with pytest.raises(ImageError, match="không phải ảnh PNG, JPEG hay WebP") as caught:
        decode_image(data)
    assert caught.value.code == "not_an_image" and isinstance(caught.value, VietQRError)


def test_decode_image_rejects_what_is_neither_bytes_nor_an_image() -> None:
    with pytest.raises(ImageError, match="không phải str") as caught:
        decode_image("payload.png")  # type: ignore[arg-type]
    assert caught.value.code == "not_bytes"


def test_svg_is_one_crisp_path_in_module_units_with_quiet_zone() -> None:
    svg = svg_text(V4_STATIC_ACCOUNT, border=2)
    modules = len(qr_matrix(V4_STATIC_ACCOUNT)) + 4
    assert svg.count("<path") == 1
    assert f'viewBox="0 0 {modules} {modules}"' in svg
    assert 'shape-rendering="crispEdges"' in svg


@pytest.mark.parametrize("border", [QUIET_ZONE, 2, 0])
def test_svg_draws_a_white_square_over_the_whole_viewbox_before_the_dark_modules(border: int) -> None:
    root = ElementTree.fromstring(svg_text(V4_STATIC_ACCOUNT, border=border))
    size = len(qr_matrix(V4_STATIC_ACCOUNT)) + 2 * border
    assert root.get("viewBox") == f"0 0 {size} {size}"
    background, modules = list(root)
    assert background.tag == f"{SVG}rect" and modules.tag == f"{SVG}path"
    assert (background.get("x"), background.get("y")) == ("0", "0")
    assert (background.get("width"), background.get("height"), background.get("fill")) == (str(size), str(size), "#fff")
    assert modules.get("fill") == "#000"
    assert root.get("style") is None  # the background is drawn, not a CSS style a viewer may ignore


def test_svg_drawn_by_its_own_shapes_on_a_black_page_scans() -> None:
    """Paint exactly what the SVG says (its rect, then its path runs) onto black, as a dark viewer would."""
    root = ElementTree.fromstring(svg_text(V2_DYNAMIC_ACCOUNT))
    background, modules = list(root)
    scale, margin = 4, 40
    size = int(background.get("width"))  # type: ignore[arg-type]
    page = Image.new("L", (size * scale + 2 * margin, size * scale + 2 * margin), 0)
    draw = ImageDraw.Draw(page)
    draw.rectangle((margin, margin, margin + size * scale - 1, margin + size * scale - 1), fill=255)
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", modules.get("d")):  # type: ignore[arg-type]
        left, top = margin + int(x) * scale, margin + int(y) * scale
        draw.rectangle((left, top, left + int(width) * scale - 1, top + scale - 1), fill=0)
    assert decode_image(page) == [V2_DYNAMIC_ACCOUNT]


def test_svg_path_paints_exactly_the_dark_modules() -> None:
    matrix = qr_matrix(V4_STATIC_ACCOUNT)
    border = QUIET_ZONE
    painted: set[tuple[int, int]] = set()
    path = re.search(r' d="([^"]*)"', svg_text(V4_STATIC_ACCOUNT)).group(1)  # type: ignore[union-attr]
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", path):
        painted |= {(int(x) + dx - border, int(y) - border) for dx in range(int(width))}
    dark = {(x, y) for y, row in enumerate(matrix) for x, cell in enumerate(row) if cell}
    assert painted == dark


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"ec": "X"}, "ec"), ({"scale": 0}, "scale"), ({"scale": 2.5}, "scale"), ({"border": -1}, "border")],
)
def test_bad_render_settings_raise_a_field_error_naming_the_setting(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(FieldError) as caught:
        png_bytes(V4_STATIC_ACCOUNT, **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_a_payload_too_long_for_any_qr_raises_vietqr_error() -> None:
    with pytest.raises(VietQRError, match="does not fit"):
        qr_matrix("9" * 8000, ec="H")
