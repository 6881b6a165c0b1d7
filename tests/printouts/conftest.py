"""Factories and raster helpers for the placard tests; makes `printouts` importable under plain pytest."""

from __future__ import annotations

import datetime
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import pypdfium2  # noqa: E402
import zxingcpp  # noqa: E402
from PIL.Image import Image  # noqa: E402

from printouts import PlacardData, render_placards  # noqa: E402
from qr import build_payload  # noqa: E402

DPI = 150
CHECK_NAME = "Kiểm tra đúng tên người nhận trên ứng dụng ngân hàng trước khi chuyển tiền"
ACCOUNTS = [
    "0011001932418",
    "19036521478899",
    "21510000000001",
    "0123456789999",
    "1500205432100",
    "9704031101234567",
    "3456789012",
    "060123456789",
    "1234567890123456789",
]
BANKS = [
    ("970436", "Vietcombank"),
    ("970407", "Techcombank"),
    ("970418", "BIDV"),
    ("970422", "MB"),
    ("970405", "Agribank"),
]


def make_card(index: int = 0, **overrides: object) -> PlacardData:
    """A realistic placard; `index` varies the account, stall and serial so every QR differs."""
    bin_, bank = BANKS[index % len(BANKS)]
    account = ACCOUNTS[index % len(ACCOUNTS)]
    fields: dict[str, object] = {
        "market_name": "Chợ Bến Thành",
        "stall_code": f"A-{index + 1:03d}",
        "holder_name": "NGUYEN THI DAO",
        "owner_name": "Nguyễn Thị Đào",
        "bank_short_name": bank,
        "account_masked": f"•••• {account[-4:]}",
        "payload": build_payload(bin=bin_, account=account),
        "serial": f"CQ-2025-{index + 1:06d}",
        "issued_on": datetime.date(2025, 11, 21),
        "goods": "Rau củ quả",
    }
    fields.update(overrides)
    return PlacardData(**fields)  # type: ignore[arg-type]


def render(cards: list[PlacardData], layout: str) -> bytes:
    out = io.BytesIO()
    render_placards(cards, out, layout=layout, title="test")
    return out.getvalue()


@dataclass
class Page:
    image: Image
    text: str  # whitespace collapsed, so wrapped lines read as one
    textpage: pypdfium2.PdfTextPage
    height_pt: float

    def text_in(self, left: float, bottom: float, right: float, top: float) -> str:
        """Text inside a rectangle given in PDF points."""
        return " ".join(self.textpage.get_text_bounded(left, bottom, right, top).split())


def pages(pdf: bytes) -> list[Page]:
    """Every page rasterised at DPI with its text."""
    document = pypdfium2.PdfDocument(pdf)
    result = []
    for page in document:
        textpage = page.get_textpage()
        image = page.render(scale=DPI / 72).to_pil()
        result.append(Page(image, " ".join(textpage.get_text_range().split()), textpage, page.get_height()))
    return result


def read_qrs(image: Image) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)


@pytest.fixture
def card() -> Callable[..., PlacardData]:
    return make_card
