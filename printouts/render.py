"""Write a batch of placards as one PDF, one per page or imposed several to an A4 sheet with cut marks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from reportlab import rl_config
from reportlab.pdfgen.canvas import Canvas

from .data import PlacardData
from .design import design_for
from .errors import ModuleTooSmall, PlacardFieldError, UnknownLayout
from .fonts import register_fonts
from .layouts import LAYOUTS, MIN_MODULE, MM, Layout
from .marks import cut_marks
from .placard import QrPainter, define_frame, draw_placard
from .qrpath import module_count, paint_qr, qr_path, stored_painter

Progress = Callable[[int, int], None]


def get_layout(name: str) -> Layout:
    """The layout called `name`, or UnknownLayout naming it and the choices."""
    try:
        return LAYOUTS[name]
    except (KeyError, TypeError):
        raise UnknownLayout(name, sorted(LAYOUTS)) from None


def qr_module_mm(layout: str, payload: str) -> float:
    """Printed size in mm of one QR module of `payload` at `layout`."""
    modules = module_count(payload)
    return design_for(get_layout(layout).placard, modules).qr[2] / modules / MM


def render_placards(
    placards: Sequence[PlacardData],
    stream: BinaryIO,
    *,
    layout: str = "a6",
    title: str = "",
    on_progress: Progress | None = None,
) -> int:
    """Write the placards to `stream` as one PDF ready for an office printer; returns the page count."""
    return render_batch(placards, stream, layout=layout, title=title, on_progress=on_progress)


def render_batch(
    placards: Sequence[PlacardData],
    stream: BinaryIO,
    *,
    layout: str = "a6",
    title: str = "",
    on_progress: Progress | None = None,
    painter: QrPainter = paint_qr,
) -> int:
    """render_placards with the QR drawing swappable, so the benchmark can compare another QR renderer.

    With the default painter each placard draws its own stored symbol (``qr_modules``), bound to that card:
    no cache keyed on anything else can put another symbol of the same payload on the page.
    """
    spec = get_layout(layout)
    cards = _checked_cards(placards)
    if painter is paint_qr:
        # encode (or unpack) and check every symbol before writing a byte
        paths = [qr_path(card.payload, card.qr_modules) for card in cards]
        modules = [total for total, _ in paths]
        _check_modules(spec, cards, modules)
        painters = [stored_painter(path) for path in paths]
    else:
        modules, painters = [0] * len(cards), [painter] * len(cards)
    register_fonts()
    canv = Canvas(stream, pagesize=spec.sheet, pageCompression=1, lang="vi-VN")
    canv.setTitle(title or "ChoQR – bảng mã VietQR")
    canv.setAuthor("ChoQR")
    canv.setCreator("ChoQR printouts")
    frames: dict[int, str] = {}
    cells = spec.cells()
    total, pages = len(cards), 0
    for start in range(0, total, spec.per_sheet):
        sheet = cards[start : start + spec.per_sheet]
        for offset, (card, (x, y)) in enumerate(zip(sheet, cells, strict=False)):
            design = design_for(spec.placard, modules[start + offset])
            frame = frames.get(id(design))
            if frame is None:
                frame = frames[id(design)] = f"ChoQRFrame{len(frames)}"
                define_frame(canv, design, frame)
            draw_placard(canv, design, frame, card, x, y, painters[start + offset])
            if on_progress is not None:
                on_progress(start + offset + 1, total)
        if spec.imposed:
            canv.addLiteral(cut_marks(spec, len(sheet)))
        canv.showPage()
        pages += 1
    _save_binary(canv)
    return pages


def _save_binary(canv: Canvas) -> None:
    """Save without ASCII85 stream wrapping: reportlab 5 encodes it in pure Python, a third of the run time,
    and makes the file 25 % larger; printers and viewers read binary streams.

    reportlab reads the switch from its process-wide ``rl_config`` while saving. It is set once and never put
    back, so batches saving at the same time in worker threads cannot switch it under each other.
    """
    rl_config.useA85 = 0
    canv.save()


def check_placards(placards: Sequence[PlacardData], *, layout: str) -> None:
    """Refuse, before anything is drawn, what ``render_placards`` would refuse: a bad card, layout or QR size.

    A batch rendered in chunks calls this once for all its placards, so it fails before its first chunk.
    """
    spec = get_layout(layout)
    cards = _checked_cards(placards)
    _check_modules(spec, cards, [module_count(card.payload, card.qr_modules) for card in cards])


def join_pdfs(parts: Sequence[Path], stream: BinaryIO, *, title: str = "") -> int:
    """Write the PDFs ``parts`` (chunks of one batch, in order) to ``stream`` as one; returns the page count."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, TextStringObject

    if not parts:
        raise PlacardFieldError("parts", parts, "at least one PDF is needed")
    writer = PdfWriter()
    for part in parts:
        writer.append(str(part))
    writer.add_metadata(
        {"/Title": title or "ChoQR – bảng mã VietQR", "/Author": "ChoQR", "/Creator": "ChoQR printouts"}
    )
    writer.root_object[NameObject("/Lang")] = TextStringObject("vi-VN")
    writer.write(stream)
    return len(writer.pages)


def _checked_cards(placards: Sequence[PlacardData]) -> list[PlacardData]:
    cards = list(placards)
    if not cards:
        raise PlacardFieldError("placards", cards, "at least one placard is needed")
    for card in cards:
        if not isinstance(card, PlacardData):
            raise PlacardFieldError("placards", card, "every item must be a PlacardData")
    return cards


def _check_modules(spec: Layout, cards: list[PlacardData], modules: list[int]) -> None:
    """Refuse a batch whose QR would print with modules under MIN_MODULE at this layout."""
    for card, count in zip(cards, modules, strict=True):
        module = design_for(spec.placard, count).qr[2] / count
        if module < MIN_MODULE - 1e-6:
            raise ModuleTooSmall(spec.name, card.serial, module / MM, MIN_MODULE / MM)
