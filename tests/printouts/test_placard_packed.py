"""A placard drawn from the symbol stored at issue time: printed as stored, never encoded again."""

from __future__ import annotations

import pytest
from conftest import make_card, pages, read_qrs, render

import printouts.qrpath as qrpath
from qr import build_payload, pack_matrix, qr_matrix


def test_a_stored_symbol_is_printed_without_encoding_the_payload_again(monkeypatch: pytest.MonkeyPatch) -> None:
    payload = build_payload(bin="970422", account="7777000011112222")
    packed = pack_matrix(qr_matrix(payload))

    def no_encoding(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the payload was encoded again although its symbol was given")

    monkeypatch.setattr(qrpath, "qr_matrix", no_encoding)
    monkeypatch.setattr(qrpath, "_PATHS", type(qrpath._PATHS)())
    pdf = render([make_card(0, payload=payload, qr_modules=packed)], "a6")
    assert [b.text for b in read_qrs(pages(pdf)[0].image)] == [payload]


def test_a_card_without_a_stored_symbol_is_encoded_from_its_payload(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qrpath, "_PATHS", type(qrpath._PATHS)())
    card = make_card(3)
    assert [b.text for b in read_qrs(pages(render([card], "a6"))[0].image)] == [card.payload]
