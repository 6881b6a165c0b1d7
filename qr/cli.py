"""`qr encode|decode` (added to the app's CLI): build or inspect a payload from the shell; qr's only click use."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .decode import decode_image
from .errors import FieldError, PayloadFormatError, VietQRError
from .parse import parse_payload
from .parsed import ParsedPayload
from .payload import build_payload
from .text import strip_edges

EXIT_BAD_INPUT = 2
EXIT_BAD_PAYLOAD = 1
_SHOWN = (
    "scheme",
    "bin",
    "bank",
    "account",
    "service",
    "initiation",
    "amount",
    "currency",
    "country",
    "purpose",
    "merchant_name",
    "merchant_city",
    "category",
    "merchant_id",
    "crc",
    "crc_ok",
)


@click.group(name="qr")
def qr_cli() -> None:
    """Build and inspect VietQR payloads."""


@qr_cli.command("encode")
@click.option("--bin", "bin_", required=True, help="Bank BIN, e.g. 970436 (Vietcombank).")
@click.option("--account", required=True, help="Account number (or card number with --card).")
@click.option("--card", is_flag=True, help="Transfer to a card number instead of an account.")
@click.option("--amount", type=int, default=None, help="Amount in dong; makes a one-payment QR.")
@click.option("--purpose", default=None, help="Transfer message; folded to uppercase ASCII.")
def encode(bin_: str, account: str, card: bool, amount: int | None, purpose: str | None) -> None:
    """Print the payload for a transfer QR, alone on stdout."""
    try:
        payload = build_payload(
            bin=bin_, account=account, service="card" if card else "account", amount=amount, purpose=purpose
        )
    except FieldError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(payload)


def _payloads(source: str) -> list[str]:
    """Treat an existing file as an image to scan, anything else as the payload text (edges stripped)."""
    path = Path(source)
    try:
        is_file = path.is_file()
    except (OSError, ValueError):  # a long payload can exceed the name limit; a NUL is no file name at all
        is_file = False
    if not is_file:
        return [strip_edges(source)]
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise VietQRError(f"image: cannot read {source} ({exc.strerror})") from exc
    texts = decode_image(data)
    if not texts:
        raise VietQRError(f"image: no QR code found in {source}")
    return texts


def _describe(parsed: ParsedPayload) -> str:
    """Lay the fields out one per line, skipping the empty ones, then each warning with its position."""
    data = parsed.to_dict()
    lines = [f"{name:<14} {data[name]}" for name in _SHOWN if data[name] is not None]
    lines += [f"62.{name:<11} {value}" for name, value in parsed.additional.items()]
    lines += [
        f"{'warning':<14} {w.code} at position {w.position} (object {w.tag}): {w.message}" for w in parsed.warnings
    ]
    return "\n".join(lines)


@qr_cli.command("decode")
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per payload.")
def decode(source: str, as_json: bool) -> None:
    """Show what a payload (or each QR in an image file) says, warnings included; exit 1 if malformed or CRC wrong."""
    try:
        texts = _payloads(source)
        parsed = [parse_payload(text, strict_crc=False) for text in texts]
    except VietQRError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_BAD_PAYLOAD)
    for item in parsed:
        click.echo(json.dumps(item.to_dict(), ensure_ascii=False) if as_json else _describe(item))
    failures = [_crc_failure(text) for text, item in zip(texts, parsed, strict=True) if not item.crc_ok]
    for message in failures:
        click.echo(f"Error: {message}", err=True)
    if failures:
        sys.exit(EXIT_BAD_PAYLOAD)


def _crc_failure(text: str) -> str:
    """Word a CRC failure exactly as the strict parser does, position included."""
    try:
        parse_payload(text)
    except PayloadFormatError as exc:
        return str(exc)
    return "CRC mismatch"
