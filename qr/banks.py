"""The NAPAS bank directory, keyed by BIN (codes differ between sources; the BIN does not)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from .text import fold_ascii

DATA_FILE = "napas_banks.csv"
# Names people still search by for banks that were renamed but kept their BIN (vietqr.md, "Bank directory").
FORMER_NAMES = {
    "970406": ("DongA Bank", "DAB"),
    "970414": ("Oceanbank",),
    "970449": ("LienVietPostBank", "LienViet"),
    "970454": ("BVBank", "Ban Viet"),
}


@dataclass(frozen=True)
class Bank:
    """One NAPAS member or wallet, as a placard and a payer's app name it."""

    bin: str
    code: str
    short_name: str
    name: str
    swift: str


@cache
def _directory() -> dict[str, Bank]:
    """Load the CSV once, on first use, so importing qr stays free of I/O."""
    raw = resources.files(__package__).joinpath("data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO(raw))
    banks = (Bank(r["bin"], r["code"], r["short_name"], r["name"], r["swift"] or "") for r in rows)
    return {bank.bin: bank for bank in sorted(banks, key=lambda b: b.short_name.casefold())}


@cache
def _search_keys() -> tuple[tuple[Bank, tuple[str, ...]], ...]:
    """Fold every alias (and former name) once so searching is a plain substring test."""
    return tuple(
        (
            bank,
            tuple(
                fold_ascii(s)
                for s in (bank.bin, bank.code, bank.short_name, bank.name, *FORMER_NAMES.get(bank.bin, ()))
            ),
        )
        for bank in _directory().values()
    )


def _rank(needle: str, aliases: tuple[str, ...]) -> int | None:
    """Order matches: an exact alias first, then a prefix, then anywhere; None when nothing matches."""
    if needle in aliases:
        return 0
    if any(alias.startswith(needle) for alias in aliases):
        return 1
    if any(needle in alias for alias in aliases):
        return 2
    return None


def get_bank(bin: str) -> Bank | None:
    """Find the bank for a BIN, or None when the directory does not know it."""
    return _directory().get(bin)


def all_banks() -> tuple[Bank, ...]:
    """List every bank by short name, for a form's select box."""
    return tuple(_directory().values())


def search_banks(query: str) -> list[Bank]:
    """Match a BIN, code or name ignoring case and diacritics ("vietcom", "VCB", "ngoại thương")."""
    needle = fold_ascii(query)
    if not needle:
        return []
    ranked = [(rank, bank) for bank, aliases in _search_keys() if (rank := _rank(needle, aliases)) is not None]
    return [bank for _, bank in sorted(ranked, key=lambda pair: pair[0])]
