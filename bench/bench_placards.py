"""Time ChoQR's placard PDFs against the same placards drawn with reportlab's QrCodeWidget (level Q).

Run: .venv/bin/python bench/bench_placards.py [--count 364] [--baseline-layouts a6,a4-8up]
Everything happens in this one single-threaded process: no network, no database. Placards and names are made up
here from a fixed seed. "cold" prints payloads never seen before (includes QR encoding in qr.qr_matrix);
"warm" prints the same batch again, as print staff do after a paper jam (QR paths come from the cache).
"stored" is what the app does: each placard carries the symbol packed when its QR was issued (and decoded
back), so the PDF draws it without encoding; the path cache starts empty, as in a fresh server process.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import io
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reportlab.graphics import renderPDF  # noqa: E402
from reportlab.graphics.barcode.qr import QrCodeWidget  # noqa: E402
from reportlab.graphics.shapes import Drawing  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

import printouts.qrpath as qrpath  # noqa: E402
from printouts import LAYOUTS, PlacardData, render_placards  # noqa: E402
from printouts.render import render_batch  # noqa: E402
from qr import QUIET_ZONE, build_payload, fold_ascii, pack_matrix, qr_matrix  # noqa: E402

FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Trương",
    "Đinh",
    "Lâm",
    "Mai",
]
MIDDLE_F = ["Thị", "Thị Ngọc", "Thị Thu", "Ngọc", "Thị Mỹ", "Thị Kim", "Thị Thanh", "Bảo"]
MIDDLE_M = ["Văn", "Hữu", "Minh", "Quốc", "Đức", "Thanh", "Công", "Văn Hoàng"]
GIVEN_F = [
    "Đào",
    "Lan",
    "Hương",
    "Phương",
    "Hạnh",
    "Nga",
    "Bích",
    "Cúc",
    "Tâm",
    "Hoa",
    "Mai",
    "Yến",
    "Trang",
    "Thảo",
    "Loan",
    "Hằng",
    "Diệp",
    "Ánh",
]
GIVEN_M = ["Hùng", "Dũng", "Tuấn", "Sơn", "Tú", "Long", "Phúc", "Khánh", "Hải", "Quang", "Thắng", "Lộc"]
MARKETS = [
    "Chợ Bến Thành",
    "Chợ Đồng Xuân",
    "Chợ Hàn",
    "Chợ Đông Ba",
    "Chợ Bà Chiểu",
    "Chợ Xóm Chiếu",
    "Chợ Phước Thái",
    "Chợ đầu mối nông sản Thủ Đức",
]
GOODS = [
    "Rau củ quả",
    "Thịt heo",
    "Cá tươi",
    "Hải sản khô",
    "Gạo, đậu các loại",
    "Trái cây",
    "Bún, phở, bánh",
    "Quần áo trẻ em",
    "Giày dép",
    "Tạp hóa",
    "Hoa tươi",
    "Gia vị, đồ khô",
    "",
]
BANKS = [
    ("970436", "Vietcombank"),
    ("970415", "VietinBank"),
    ("970418", "BIDV"),
    ("970405", "Agribank"),
    ("970407", "Techcombank"),
    ("970422", "MB"),
    ("970416", "ACB"),
    ("970403", "Sacombank"),
    ("970432", "VPBank"),
    ("970423", "TPBank"),
]

Painter = Callable[[Canvas, str, float, float, float], None]


def make_placards(count: int, seed: int) -> list[PlacardData]:
    """`count` stalls with made-up but realistic Vietnamese names, each with a fresh account (fresh payload)."""
    rng = random.Random(seed)
    cards = []
    for index in range(count):
        female = rng.random() < 0.7  # most market stall holders are women
        owner = " ".join(
            [
                rng.choice(FAMILY),
                rng.choice(MIDDLE_F if female else MIDDLE_M),
                rng.choice(GIVEN_F if female else GIVEN_M),
            ]
        )
        bin_, bank = rng.choice(BANKS)
        account = "".join(rng.choice("0123456789") for _ in range(rng.choice((10, 12, 13, 14))))
        cards.append(
            PlacardData(
                market_name=MARKETS[seed % len(MARKETS)],
                stall_code=f"{'ABCDEFGHKLMN'[index // 40 % 12]}-{index % 40 + 1:03d}",
                holder_name=fold_ascii(owner),
                bank_short_name=bank,
                account_masked=f"•••• {account[-4:]}",
                payload=build_payload(bin=bin_, account=account),
                serial=f"CQ-{seed:02d}-{index + 1:06d}",
                issued_on=datetime.date(2025, 11, 21),
                owner_name=owner,
                goods=rng.choice(GOODS),
            )
        )
    return cards


def widget_painter(canv: Canvas, payload: str, x: float, y: float, side: float) -> None:
    """The baseline: reportlab's own QR widget in a Drawing, level Q, same quiet zone and size."""
    widget = QrCodeWidget(payload, barLevel="Q", barBorder=QUIET_ZONE)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(side, side, transform=[side / (x1 - x0), 0, 0, side / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, canv, x, y)


def timed(cards: list[PlacardData], layout: str, painter: Painter | None = None) -> tuple[float, int, int]:
    """Seconds, pages and bytes for one PDF of `cards`."""
    out = io.BytesIO()
    start = time.perf_counter()
    if painter is None:
        pages = render_placards(cards, out, layout=layout)
    else:
        pages = render_batch(cards, out, layout=layout, painter=painter)
    return time.perf_counter() - start, pages, len(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=364)
    parser.add_argument(
        "--baseline-layouts",
        default=",".join(LAYOUTS),
        help="comma-separated layouts to time the QrCodeWidget baseline at (default: all)",
    )
    args = parser.parse_args()
    count = args.count
    baseline_layouts = [name for name in args.baseline_layouts.split(",") if name]

    timed(make_placards(8, seed=99), "a6")  # load fonts and modules once, as a running server has
    print(f"{count} placards per PDF, single thread, {len(LAYOUTS)} layouts")
    fresh = [card.payload for card in make_placards(count, seed=98)]
    start = time.perf_counter()
    for payload in fresh:
        qr_matrix(payload, ec="Q")
    encode = time.perf_counter() - start
    print(f"qr.qr_matrix alone on {count} fresh payloads: {encode:.3f} s ({encode / count * 1000:.2f} ms each)")
    header = (
        f"{'layout':8} {'pages':>5} {'KiB':>6} {'cold s':>7} {'stored s':>8} {'stored/s':>8} {'warm s':>7}"
        f" {'baseline s':>10} {'base/s':>7} {'ratio cold':>10} {'ratio stored':>12} {'ratio warm':>10}"
    )
    print(header)
    for seed, layout in enumerate(LAYOUTS, start=1):
        cards = make_placards(count, seed)  # fresh payloads: the cold run encodes every QR
        cold, pages, size = timed(cards, layout)
        warm = min(timed(cards, layout)[0] for _ in range(3))
        fresh_cards = make_placards(count, seed + 50)
        issued = [dataclasses.replace(c, qr_modules=pack_matrix(qr_matrix(c.payload))) for c in fresh_cards]
        stored = []
        for _ in range(3):
            qrpath._PATHS.clear()  # a fresh server process: nothing cached but what the database holds
            stored.append(timed(issued, layout)[0])
        stored_s = min(stored)
        line = (
            f"{layout:8} {pages:5d} {size / 1024:6.0f} {cold:7.3f} {stored_s:8.3f} {count / stored_s:8.0f} {warm:7.3f}"
        )
        if layout in baseline_layouts:
            base, _, _ = timed(cards, layout, widget_painter)
            line += f" {base:10.3f} {count / base:7.1f} {base / cold:9.1f}x"
            line += f" {base / stored_s:11.1f}x {base / warm:9.1f}x"
        print(line, flush=True)


if __name__ == "__main__":
    main()
