"""Where everything sits on a placard of a given size: computed once per size, reused for every placard."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .fonts import BOLD, REGULAR
from .layouts import A6, MIN_MODULE, MM
from .textfit import Color, TextBox

NAVY: Color = (0.05, 0.23, 0.50)
WHITE: Color = (1.0, 1.0, 1.0)
MUTED: Color = (0.33, 0.35, 0.39)
WARN: Color = (0.68, 0.09, 0.09)
WARN_TINT: Color = (1.0, 0.93, 0.91)
RULE: Color = (0.72, 0.74, 0.78)

LANDSCAPE_QR = 52 * MM  # QR side on an 8-up card: 1 mm modules up to version 6, all static VietQR payloads

CHECK_NAME = "Kiểm tra đúng tên người nhận trên ứng dụng ngân hàng trước khi chuyển tiền"
SCAN_HINT = "Quét mã bằng ứng dụng ngân hàng · VietQR · NAPAS 247"
SCAN_HINT_SHORT = "Quét bằng ứng dụng ngân hàng · VietQR"
HOLDER_LABEL = "CHỦ TÀI KHOẢN"
STALL_LABEL = "SẠP"
SAMPLE_LINE = "MẪU – KHÔNG DÙNG ĐỂ THANH TOÁN"
SAMPLE_MARK = "MẪU"


@dataclass(frozen=True)
class Panel:
    """A filled rounded rectangle of the static frame."""

    x: float
    y: float
    w: float
    h: float
    radius: float
    color: Color


@dataclass(frozen=True)
class Design:
    """Geometry of one placard size: the QR square, the boxes for each field, and the static frame."""

    size: tuple[float, float]
    qr: tuple[float, float, float]  # x, y, side (quiet zone included)
    fields: dict[str, TextBox]  # market, stall, goods, holder, owner, bank, serial, issued
    labels: tuple[tuple[str, TextBox], ...]  # fixed wording drawn once into the frame
    panels: tuple[Panel, ...]
    rules: tuple[tuple[float, float, float], ...]  # horizontal hairlines: x0, x1, y


class _Column:
    """Stacks boxes downwards from a top edge."""

    def __init__(self, x: float, top: float, w: float) -> None:
        self.x, self.top, self.w = x, top, w

    def take(self, h: float) -> tuple[float, float, float, float]:
        self.top -= h
        return self.x, self.top, self.w, h

    def skip(self, h: float) -> None:
        self.top -= h


def design_for(size: tuple[float, float], modules: int) -> Design:
    """Portrait placards stack the QR under the stall code; landscape (8-up) ones put it beside the text.

    `modules` is the symbol's width including quiet zones: a landscape QR grows with it to keep 1 mm modules.
    """
    if size[0] > size[1]:
        return _landscape(size, modules)
    return _portrait(size)


@lru_cache(maxsize=16)
def _portrait(size: tuple[float, float]) -> Design:
    """A6 proportions in mm, scaled to the width; the QR takes whatever height the text leaves."""
    width, height = size
    k = width / A6[0]
    u = MM * k
    margin = 5.5 * u
    col = _Column(margin, height - margin, width - 2 * margin)
    fields: dict[str, TextBox] = {}
    labels: list[tuple[str, TextBox]] = []

    fields["market"] = TextBox(*col.take(10 * u), BOLD, 12.5 * k, 7 * k, max_lines=2, color=NAVY)
    col.skip(1.5 * u)
    band = col.take(15 * u)
    panels = [Panel(*band, 2 * u, NAVY)]
    bx, by, bw, bh = band
    labels.append((STALL_LABEL, TextBox(bx + 2.5 * u, by, 9 * u, bh, BOLD, 7 * k, 5 * k, color=WHITE)))
    fields["stall"] = TextBox(bx + 12 * u, by + 0.8 * u, bw - 24 * u, bh - 1.6 * u, BOLD, 32 * k, 10 * k, color=WHITE)
    col.skip(1.2 * u)
    fields["goods"] = TextBox(*col.take(4.5 * u), REGULAR, 8.5 * k, 6 * k, color=MUTED)
    col.skip(0.8 * u)

    below = [4, 2, 3.2, 11, 4, 5, 1.8, 10, 1.4, 3.5]  # scan hint .. footer, in A6 mm
    side = min(col.top - margin - sum(below) * u, col.w)
    qr_y = col.top - side
    qr = ((width - side) / 2, qr_y, side)
    col.top = qr_y

    labels.append((SCAN_HINT, TextBox(*col.take(4 * u), REGULAR, 7 * k, 5 * k, color=MUTED)))
    col.skip(1 * u)
    rules = [(margin + 8 * u, width - margin - 8 * u, col.top)]
    col.skip(1 * u)
    labels.append((HOLDER_LABEL, TextBox(*col.take(3.2 * u), REGULAR, 6 * k, 4.5 * k, color=MUTED)))
    fields["holder"] = TextBox(*col.take(11 * u), BOLD, 13 * k, 7 * k, max_lines=2)
    fields["owner"] = TextBox(*col.take(4 * u), REGULAR, 8 * k, 6 * k)
    fields["bank"] = TextBox(*col.take(5 * u), REGULAR, 9 * k, 6 * k)
    col.skip(1.8 * u)
    check = col.take(10 * u)
    panels.append(Panel(*check, 1.5 * u, WARN_TINT))
    cx, cy, cw, ch = check
    labels.append(
        (
            CHECK_NAME,
            TextBox(cx + 3 * u, cy + 0.6 * u, cw - 6 * u, ch - 1.2 * u, BOLD, 7.5 * k, 5 * k, max_lines=3, color=WARN),
        )
    )
    col.skip(1.4 * u)
    fx, fy, fw, fh = col.take(3.5 * u)
    fields["serial"] = TextBox(fx, fy, fw * 0.58, fh, REGULAR, 6.5 * k, 4.5 * k, align="left", color=MUTED)
    fields["issued"] = TextBox(fx + fw * 0.6, fy, fw * 0.4, fh, REGULAR, 6.5 * k, 4.5 * k, align="right", color=MUTED)
    _check_fits(col, margin, size)
    return Design(size, qr, fields, tuple(labels), tuple(panels), tuple(rules))


@lru_cache(maxsize=16)
def _landscape(size: tuple[float, float], modules: int) -> Design:
    """A7-ish cards: the QR on the left, at least LANDSCAPE_QR wide and 1 mm per module, text beside it."""
    width, height = size
    k = height / (64.75 * MM)
    u = MM * k
    edge = 2.5 * u
    side = min(max(LANDSCAPE_QR * k, modules * MIN_MODULE), height - 2 * edge)
    qr = (edge, (height - side) / 2, side)
    margin = 3.2 * u
    left = edge + side + 0.3 * u
    col = _Column(left, height - margin, width - margin - left)
    fields: dict[str, TextBox] = {}
    labels: list[tuple[str, TextBox]] = []

    fields["market"] = TextBox(*col.take(6.6 * u), BOLD, 8.5 * k, 5 * k, max_lines=2, align="left", color=NAVY)
    col.skip(0.8 * u)
    band = col.take(9.2 * u)
    panels = [Panel(*band, 1.5 * u, NAVY)]
    bx, by, bw, bh = band
    fields["stall"] = TextBox(bx + 1.5 * u, by + 0.6 * u, bw - 3 * u, bh - 1.2 * u, BOLD, 22 * k, 8 * k, color=WHITE)
    col.skip(0.6 * u)
    fields["goods"] = TextBox(*col.take(3.2 * u), REGULAR, 6.5 * k, 4.5 * k, align="left", color=MUTED)
    col.skip(1.0 * u)
    labels.append((HOLDER_LABEL, TextBox(*col.take(2.6 * u), REGULAR, 5 * k, 4 * k, align="left", color=MUTED)))
    fields["holder"] = TextBox(*col.take(7.4 * u), BOLD, 8.5 * k, 5 * k, max_lines=3, align="left")
    fields["owner"] = TextBox(*col.take(4.2 * u), REGULAR, 6 * k, 4.2 * k, max_lines=2, align="left")
    fields["bank"] = TextBox(*col.take(3.2 * u), REGULAR, 6.5 * k, 4.5 * k, align="left")
    col.skip(1.0 * u)
    check = col.take(8.6 * u)
    panels.append(Panel(*check, 1 * u, WARN_TINT))
    cx, cy, cw, ch = check
    labels.append(
        (
            CHECK_NAME,
            TextBox(
                cx + 1.2 * u,
                cy + 0.3 * u,
                cw - 2.4 * u,
                ch - 0.6 * u,
                BOLD,
                5.5 * k,
                4 * k,
                max_lines=4,
                align="left",
                color=WARN,
            ),
        )
    )
    col.skip(0.8 * u)
    labels.append((SCAN_HINT_SHORT, TextBox(*col.take(2.7 * u), REGULAR, 5 * k, 3.8 * k, align="left", color=MUTED)))
    col.skip(0.3 * u)
    fields["serial"] = TextBox(*col.take(2.6 * u), REGULAR, 5 * k, 3.8 * k, align="left", color=MUTED)
    fields["issued"] = TextBox(*col.take(2.6 * u), REGULAR, 5 * k, 3.8 * k, align="left", color=MUTED)
    _check_fits(col, margin, size)
    return Design(size, qr, fields, tuple(labels), (*panels,), ())


def _check_fits(col: _Column, margin: float, size: tuple[float, float]) -> None:
    """Fail loudly if a design change made the stack run into the bottom margin."""
    if col.top < margin - 0.01:
        raise AssertionError(f"placard design overflows {size[0] / MM:.1f} x {size[1] / MM:.1f} mm")
