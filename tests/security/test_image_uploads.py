"""Hostile image uploads (issue 10): decode_image refuses what is not a sane PNG, JPEG or WebP photo.

Every attack file is generated here. A refusal must be an ImageError (a VietQRError) with a Vietnamese message,
come within two seconds, and never hand the bytes to Ghostscript or allocate a bomb's pixels.
"""

from __future__ import annotations

import io
import json
import random
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import EpsImagePlugin, Image

import qr.decode
from qr import (
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS,
    ImageError,
    VietQRError,
    build_payload,
    decode_image,
    parse_payload,
    png_bytes,
)
from qr.cli import qr_cli

TIME_LIMIT = 2.0  # seconds: what one refused upload may cost a web worker
PAYLOAD = build_payload(bin="970436", account="0011001932418", amount=50000, purpose="Tiền chợ")
# An EPS whose PostScript never ends: Ghostscript, if Pillow ever ran it, would spin forever.
EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n{ } loop\n"


def refused(data: bytes) -> ImageError:
    """Decode hostile bytes, requiring an ImageError within TIME_LIMIT; return it for its code and message."""
    start = time.perf_counter()
    with pytest.raises(ImageError) as caught:
        decode_image(data)
    assert time.perf_counter() - start < TIME_LIMIT
    assert isinstance(caught.value, VietQRError)
    return caught.value


def png_of_zeros(width: int, height: int, bit_depth: int = 1) -> bytes:
    """A greyscale PNG of all-zero rows written with zlib and struct, so a bomb costs kilobytes to build."""
    row = b"\x00" * (1 + (width * bit_depth + 7) // 8)  # filter byte, then the packed pixels
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def jpeg_claiming(width: int, height: int) -> bytes:
    """A tiny real JPEG whose start-of-frame header is rewritten to claim width x height."""
    buffer = io.BytesIO()
    Image.new("L", (16, 16), 128).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def photo_with_qr(size: tuple[int, int], qr_side: int) -> Image.Image:
    """A cheap camera-like RGB picture: upscaled noise, with the QR pasted at about the given side."""
    photo = Image.effect_noise((size[0] // 8, size[1] // 8), 25).resize(size, Image.Resampling.BILINEAR)
    symbol = Image.open(io.BytesIO(png_bytes(PAYLOAD, scale=1))).convert("L")
    symbol = symbol.resize((qr_side, qr_side), Image.Resampling.NEAREST)
    photo.paste(symbol, (size[0] // 3, size[1] // 4))
    return photo.convert("RGB")


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """A 13000 x 13000 PNG (169 megapixels, 169 MB once decoded) that weighs a few tens of kilobytes."""
    return png_of_zeros(13000, 13000)


@pytest.fixture
def ghostscript_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record any attempt to identify a file as EPS or to run Ghostscript; the tests require none."""
    calls: list[str] = []

    def ghostscript(*args: object, **kwargs: object) -> None:
        calls.append("Ghostscript")
        raise AssertionError("Ghostscript must never run on an upload")

    original_open = EpsImagePlugin.EpsImageFile._open

    def eps_open(self: EpsImagePlugin.EpsImageFile) -> None:
        calls.append("EpsImageFile._open")
        original_open(self)

    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", ghostscript)
    monkeypatch.setattr(EpsImagePlugin, "has_ghostscript", lambda: True)
    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open", eps_open)
    yield calls


# --- PostScript passed off as a picture ----------------------------------------------------------------------


def test_pillow_left_to_itself_would_take_the_attack_file_for_eps(ghostscript_calls: list[str]) -> None:
    """The control: without the format list, Pillow identifies these bytes as EPS (the road to Ghostscript)."""
    assert Image.open(io.BytesIO(EPS)).format == "EPS"
    assert ghostscript_calls == ["EpsImageFile._open"]


def test_a_postscript_file_is_refused_without_ever_reaching_the_eps_plugin(ghostscript_calls: list[str]) -> None:
    error = refused(EPS)
    assert (error.code, str(error)) == ("not_an_image", "Tệp không phải ảnh PNG, JPEG hay WebP.")
    assert ghostscript_calls == []


def test_a_postscript_file_named_png_is_refused_by_the_cli(ghostscript_calls: list[str], tmp_path: Path) -> None:
    upload = tmp_path / "placard.png"
    upload.write_bytes(EPS)
    result = CliRunner().invoke(qr_cli, ["decode", str(upload)])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "Error: Tệp không phải ảnh PNG, JPEG hay WebP.\n"
    assert ghostscript_calls == []


# --- decompression bombs ----------------------------------------------------------------------------------


def test_a_13000_pixel_square_png_bomb_is_refused_from_its_header(bomb: bytes) -> None:
    assert len(bomb) < 1_000_000
    error = refused(bomb)
    assert error.code == "too_many_pixels"
    assert str(error).startswith("Ảnh quá lớn: ") and str(error).endswith("megapixel; tối đa 40.")


def test_a_png_just_over_the_limit_is_refused_with_its_exact_size() -> None:
    error = refused(png_of_zeros(7000, 6000))  # 42 MP: under Pillow's own limits, over ours
    assert (error.code, str(error)) == (
        "too_many_pixels",
        "Ảnh quá lớn: 7000×6000 điểm ảnh = 42,0 megapixel; tối đa 40.",
    )


@pytest.mark.parametrize(("width", "height"), [(8000, 6000), (60000, 60000), (65535, 65535)])
def test_a_jpeg_whose_header_claims_too_many_pixels_is_refused(width: int, height: int) -> None:
    assert refused(jpeg_claiming(width, height)).code == "too_many_pixels"


def test_bombs_are_refused_without_allocating_their_pixels(tmp_path: Path, bomb: bytes) -> None:
    """In a fresh process with default warning filters (as in production), the peak memory barely moves."""
    files = {"png_bomb": bomb, "jpeg_bomb": jpeg_claiming(60000, 60000), "png_42mp": png_of_zeros(7000, 6000)}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    script = """
import json, resource, sys, time
from pathlib import Path
from qr import ImageError, decode_image
folder, names = Path(sys.argv[1]), sys.argv[2:]
datas = {name: (folder / name).read_bytes() for name in names}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
report = {}
for name, data in datas.items():
    start = time.perf_counter()
    try:
        decode_image(data)
        report[name] = ["decoded", time.perf_counter() - start]
    except ImageError as exc:
        report[name] = [exc.code, time.perf_counter() - start]
report["growth_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps(report))
"""
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-c", script, str(tmp_path), *files]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=60, check=True)
    report = json.loads(result.stdout)
    for name in files:
        code, seconds = report[name]
        assert (name, code) == (name, "too_many_pixels")
        assert seconds < TIME_LIMIT
    assert report["growth_mb"] < 50  # the PNG bomb alone would take 169 MB, twice that once made grey


def test_the_pixel_limit_fits_a_phone_photo() -> None:
    assert 4000 * 3000 <= 8000 * 5000 <= MAX_IMAGE_PIXELS < 13000 * 13000


# --- what is not a PNG, JPEG or WebP, or is broken ---------------------------------------------------------

SMALL = Image.open(io.BytesIO(png_bytes(PAYLOAD, scale=3))).convert("RGB")
GOOD_PNG = png_bytes(PAYLOAD, scale=3)
GOOD_JPEG = encoded(SMALL, "JPEG", quality=90)
GOOD_WEBP = encoded(SMALL, "WEBP", lossless=True)


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("gif", lambda: encoded(SMALL, "GIF")),
        ("tiff", lambda: encoded(SMALL, "TIFF")),
        ("bmp", lambda: encoded(SMALL, "BMP")),
        ("ico", lambda: encoded(SMALL, "ICO")),
        ("pdf", lambda: encoded(SMALL, "PDF")),
        ("empty", lambda: b""),
        ("random", lambda: random.Random(10).randbytes(4096)),
        ("svg", lambda: b'<svg xmlns="http://www.w3.org/2000/svg"/>'),
        ("png_signature_only", lambda: b"\x89PNG\r\n\x1a\n"),
    ],
)
def test_files_that_are_not_png_jpeg_or_webp_are_refused(name: str, make: Callable[[], bytes]) -> None:
    error = refused(make())
    assert (error.code, str(error)) == ("not_an_image", "Tệp không phải ảnh PNG, JPEG hay WebP."), name


@pytest.mark.parametrize("keep", [0.5, 0.95])
@pytest.mark.parametrize(("name", "data"), [("png", GOOD_PNG), ("jpeg", GOOD_JPEG), ("webp", GOOD_WEBP)])
def test_a_truncated_image_is_refused_as_unreadable(name: str, data: bytes, keep: float) -> None:
    error = refused(data[: int(len(data) * keep)])
    assert (error.code, str(error)) == ("unreadable", "Ảnh bị hỏng hoặc không đầy đủ, không giải mã được."), name


def test_bytes_over_the_size_limit_are_refused_before_opening() -> None:
    error = refused(GOOD_PNG + b"\x00" * MAX_IMAGE_BYTES)
    assert (error.code, str(error)) == ("too_many_bytes", "Ảnh quá nặng: 10,0 MB; tối đa 10 MB.")


@pytest.mark.parametrize(("name", "data"), [("png", GOOD_PNG), ("jpeg", GOOD_JPEG), ("webp", GOOD_WEBP)])
def test_damaged_images_only_ever_raise_image_error(name: str, data: bytes) -> None:
    rng = random.Random(name)
    start = time.perf_counter()
    for _ in range(60):
        damaged = bytearray(data[: rng.randrange(8, len(data) + 1)])
        for _ in range(rng.randrange(0, 4)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        try:
            decode_image(bytes(damaged))
        except ImageError:
            pass
    assert time.perf_counter() - start < 3 * TIME_LIMIT


# --- sane photos still read ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "data"), [("png", GOOD_PNG), ("jpeg", GOOD_JPEG), ("webp", GOOD_WEBP)])
def test_each_allowed_format_decodes(name: str, data: bytes) -> None:
    assert decode_image(data) == [PAYLOAD], name


def test_a_4000_by_3000_phone_jpeg_decodes_after_a_cheap_shrink(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, int]] = []
    read = qr.decode.zxingcpp.read_barcodes

    def spy(image: Image.Image, **options: object) -> object:
        seen.append(image.size)
        return read(image, **options)

    monkeypatch.setattr(qr.decode.zxingcpp, "read_barcodes", spy)
    data = encoded(photo_with_qr((4000, 3000), 900), "JPEG", quality=85)
    start = time.perf_counter()
    texts = decode_image(data)
    assert time.perf_counter() - start < TIME_LIMIT
    assert texts == [PAYLOAD]
    assert parse_payload(texts[0]).account == "0011001932418"
    assert seen == [(2000, 1500)]  # JPEG draft mode decoded it at half size, in grey


def test_a_large_but_allowed_png_is_decoded_reduced() -> None:
    photo = Image.new("L", (6000, 6000), 255)
    symbol = Image.open(io.BytesIO(png_bytes(PAYLOAD, scale=24)))
    photo.paste(symbol, (1500, 1500))
    data = encoded(photo.convert("1"), "PNG")
    assert len(data) < MAX_IMAGE_BYTES
    start = time.perf_counter()
    assert decode_image(data) == [PAYLOAD]
    assert time.perf_counter() - start < TIME_LIMIT
