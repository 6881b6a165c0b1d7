"""Properties over many inputs: valid data round-trips, corruption is caught, and reading never crashes."""

from __future__ import annotations

from random import Random
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from qr import FieldError, VietQRError, all_banks, build_payload, parse_payload, transfer_data
from qr.canonical import read_canonical
from qr.parse import _read_general

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))
ASCII = "".join(chr(c) for c in range(0x80))
IDENTIFIER = st.none() | st.text(PRINTABLE, max_size=25)
FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=2000, deadline=None)


@st.composite
def transfer_kwargs(draw: st.DrawFn) -> dict[str, Any]:
    """Draw keyword arguments that build_payload accepts (the 99-character limit of 62 is assumed away)."""
    kwargs = {
        "bin": draw(st.sampled_from([bank.bin for bank in all_banks()])),
        "account": draw(st.text(ALNUM, min_size=1, max_size=19)),
        "service": draw(st.sampled_from(["account", "card"])),
        "amount": draw(st.none() | st.integers(1, 10**13 - 1)),
        "purpose": draw(st.none() | st.text(max_size=25)),
        "customer": draw(st.none() | st.text(max_size=12)),
        "bill_number": draw(IDENTIFIER),
        "reference": draw(IDENTIFIER),
        "store": draw(IDENTIFIER),
        "terminal": draw(IDENTIFIER),
        "mobile": draw(st.none() | st.text("0123456789+", max_size=12)),
    }
    try:
        transfer_data(**kwargs)
    except FieldError as error:
        assume(error.field != "additional_data" and "after folding" not in error.rule)
        raise
    return kwargs


@st.composite
def valid_payloads(draw: st.DrawFn) -> str:
    """Draw a payload ChoQR builds."""
    return build_payload(**draw(transfer_kwargs()))


@FAST
@given(transfer_kwargs())
def test_any_valid_input_round_trips_through_build_and_parse(kwargs: dict[str, Any]) -> None:
    data = transfer_data(**kwargs)
    parsed = parse_payload(data.payload)
    assert (parsed.scheme, parsed.bin, parsed.account, parsed.service) == (
        "vietqr",
        data.bin,
        data.account,
        data.service,
    )
    assert (parsed.amount, parsed.initiation, parsed.purpose, parsed.crc_ok) == (
        data.amount,
        data.initiation,
        data.purpose,
        True,
    )
    for name in ("bill_number", "reference", "store", "terminal", "mobile", "customer"):
        assert parsed.additional.get(name) == getattr(data, name)
    assert parsed.bank is not None and parsed.bank.bin == data.bin


@FAST
@given(valid_payloads())
def test_the_canonical_reader_accepts_every_built_payload_and_agrees_with_the_general_reader(text: str) -> None:
    fast = read_canonical(text)
    assert fast is not None
    assert fast == _read_general(text, True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_payloads(), st.randoms(use_true_random=False))
def test_any_single_changed_ascii_character_is_caught_by_the_crc_or_tlv_checks(text: str, rng: Random) -> None:
    for index, original in enumerate(text):
        choices = [c for c in ASCII if c != original]
        if index >= len(text) - 4:  # the CRC in lowercase is the same CRC, so not a change
            choices = [c for c in choices if c.upper() != original]
        mutated = text[:index] + rng.choice(choices) + text[index + 1 :]
        try:
            parsed = parse_payload(mutated, strict_crc=False)
        except VietQRError:
            continue
        assert not parsed.crc_ok, mutated


@FUZZ
@given(st.text())
def test_parse_raises_nothing_but_vietqr_error_on_arbitrary_text(text: str) -> None:
    try:
        parse_payload(text)
    except VietQRError:
        pass


@FUZZ
@given(st.text("0123456789A", max_size=120))
def test_parse_raises_nothing_but_vietqr_error_on_digit_soup(text: str) -> None:
    try:
        parse_payload(text, strict_crc=False)
    except VietQRError:
        pass


@MANY
@given(valid_payloads(), st.data())
def test_damaged_payloads_never_crash_the_reader_and_both_readers_agree(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    stop = data.draw(st.integers(start, min(len(text), start + 3)))
    damaged = text[:start] + data.draw(st.text(max_size=3)) + text[stop:]
    fast = read_canonical(damaged)
    try:
        general = _read_general(damaged, True)
    except VietQRError:
        assert fast is None
        return
    assert fast is None or fast == general
