"""A batch PDF scans back: every QR on every page, read at 150 dpi, pays the stall whose code is printed beside it."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest
import zxingcpp
from factories import login, make_household, make_market, make_user
from sqlmodel import select

from merchants.models import IssuedQR, Placard, PrintBatch, Stall
from printouts import LAYOUTS

DPI = 150


def _cell_of(layout: str, x: float, y: float) -> int:
    """Index (reading order) of the placard cell of a sheet that holds the point (x, y) in PDF points."""
    spec = LAYOUTS[layout]
    width, height = spec.placard
    for n, (left, bottom) in enumerate(spec.cells()):
        if left <= x <= left + width and bottom <= y <= bottom + height:
            return n
    raise AssertionError(f"({x:.0f}, {y:.0f}) lies outside every placard of {layout}")


def scan_pages(pdf_bytes: bytes, layout: str, stall_codes: list[str]) -> list[dict[int, tuple[str, str]]]:
    """Per page: cell → (stall code printed in it, QR text decoded in it), from pixels and page text alone."""
    pages = []
    for page in pdfium.PdfDocument(pdf_bytes):
        scale, page_height = DPI / 72, page.get_height()
        image = page.render(scale=scale).to_pil()
        qrs = {}
        for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
            corners = [
                code.position.top_left,
                code.position.top_right,
                code.position.bottom_right,
                code.position.bottom_left,
            ]
            cx, cy = sum(p.x for p in corners) / 4 / scale, page_height - sum(p.y for p in corners) / 4 / scale
            cell = _cell_of(layout, cx, cy)
            assert cell not in qrs, f"two QRs in cell {cell}"
            qrs[cell] = code.text
        labels = {}
        text = page.get_textpage()
        for stall in stall_codes:
            searcher = text.search(stall, match_whole_word=True)
            while (hit := searcher.get_next()) is not None:
                left, bottom, right, top = text.get_charbox(hit[0])
                cell = _cell_of(layout, (left + right) / 2, (bottom + top) / 2)
                assert cell not in labels, f"two stall codes in cell {cell}"
                labels[cell] = stall
        assert labels.keys() == qrs.keys(), f"cells with a stall code {sorted(labels)} vs with a QR {sorted(qrs)}"
        pages.append({cell: (labels[cell], qrs[cell]) for cell in sorted(qrs)})
    return pages


@pytest.mark.parametrize(("layout", "is_demo"), [(name, False) for name in LAYOUTS] + [("a4-8up", True)])
def test_every_qr_of_a_batch_pdf_decodes_to_the_payload_of_the_stall_beside_it(client, session, app, layout, is_demo):
    market = make_market(session, stalls=9, is_demo=is_demo)
    for _ in range(9):
        make_household(session, market)
    app.config["BATCH_SYNC"] = True
    login(client, make_user(session, "print_staff", provinces=["22"]))
    resp = client.post(f"/markets/{market.id}/placards", data={"layout": layout, "selection": "all"})
    batch = session.exec(select(PrintBatch)).one()
    pdf = client.get(f"/markets/{market.id}/placards/batches/{batch.id}/pdf").data
    assert resp.status_code == 302 and batch.status == "done"

    payload_of = dict(
        session.exec(
            select(Stall.code, IssuedQR.payload)
            .join(Placard, Placard.stall_id == Stall.id)
            .join(IssuedQR, IssuedQR.id == Placard.qr_id)
            .where(Placard.batch_id == batch.id)
        ).all()
    )
    pages = scan_pages(pdf, layout, sorted(payload_of))
    assert len(pages) == -(-9 // LAYOUTS[layout].per_sheet)
    printed = [stall for page in pages for stall, _ in page.values()]
    assert printed == sorted(payload_of)  # each stall once, in zone and code order
    for page in pages:
        for stall, decoded in page.values():
            assert decoded == payload_of[stall], stall
