"""Draw one placard: the static frame (a Form XObject shared by every placard) and its own fields and QR."""

from __future__ import annotations

import math
from collections.abc import Callable

from reportlab.pdfgen.canvas import Canvas

from .data import PlacardData
from .design import RULE, SAMPLE_LINE, SAMPLE_MARK, WARN, Design
from .fonts import BOLD, em_width
from .textfit import CAP, TextBox, draw_text

DATE_FORMAT = "%d/%m/%Y"
SAMPLE_ALPHA = 0.22

QrPainter = Callable[[Canvas, str, float, float, float], None]


def define_frame(canv: Canvas, design: Design, name: str) -> None:
    """Record what every placard of this design shares (panels, rules, fixed wording) once per PDF."""
    canv.beginForm(name, 0, 0, *design.size)
    for panel in design.panels:
        canv.setFillColorRGB(*panel.color)
        canv.roundRect(panel.x, panel.y, panel.w, panel.h, panel.radius, stroke=0, fill=1)
    if design.rules:
        canv.setStrokeColorRGB(*RULE)
        canv.setLineWidth(0.5)
        for x0, x1, y in design.rules:
            canv.line(x0, y, x1, y)
    for text, box in design.labels:
        draw_text(canv, text, box)
    canv.endForm()


def draw_placard(
    canv: Canvas, design: Design, frame: str, card: PlacardData, x: float, y: float, paint_qr: QrPainter
) -> None:
    """Draw one placard with its lower-left corner at (x, y) on the current page."""
    fields = design.fields
    canv.saveState()
    canv.translate(x, y)
    canv.doForm(frame)
    draw_text(canv, card.market_name, fields["market"])
    draw_text(canv, card.stall_code, fields["stall"])
    if card.sample:
        goods = fields["goods"]
        draw_text(
            canv,
            SAMPLE_LINE,
            TextBox(
                goods.x,
                goods.y,
                goods.w,
                goods.h,
                BOLD,
                goods.max_size,
                goods.min_size * 0.8,
                align=goods.align,
                color=WARN,
            ),
        )
    else:
        draw_text(canv, card.goods, fields["goods"])
    draw_text(canv, card.holder_name, fields["holder"])
    draw_text(canv, card.owner_name, fields["owner"])
    draw_text(canv, f"{card.bank_short_name} · {card.account_masked}", fields["bank"])
    draw_text(canv, f"Số phiếu: {card.serial}", fields["serial"])
    draw_text(canv, f"Ngày cấp: {card.issued_on.strftime(DATE_FORMAT)}", fields["issued"])
    paint_qr(canv, card.payload, *design.qr)
    if card.sample:
        _watermark(canv, design)
    canv.restoreState()


def _watermark(canv: Canvas, design: Design) -> None:
    """A translucent diagonal MẪU across the whole placard, QR included, so a sample is never hung up."""
    width, height = design.size
    diagonal = math.hypot(width, height)
    size = min(0.5 * diagonal / em_width(SAMPLE_MARK, BOLD), 0.3 * min(width, height) / CAP)
    canv.saveState()
    clip = canv.beginPath()
    clip.rect(0, 0, width, height)
    canv.clipPath(clip, stroke=0, fill=0)
    canv.translate(width / 2, height / 2)
    canv.rotate(math.degrees(math.atan2(height, width)))
    canv.setFillColorRGB(*WARN)
    canv.setFillAlpha(SAMPLE_ALPHA)
    canv.setFont(BOLD, size)
    canv.drawCentredString(0, -CAP / 2 * size, SAMPLE_MARK)
    canv.restoreState()
