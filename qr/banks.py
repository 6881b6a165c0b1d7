"""The NAPAS bank directory, keyed by BIN (codes differ between sources; the BIN does not).

SOURCE: data/napas_banks.csv (bin, code, short_name, name, swift) was compiled 2026-11 from the public
VietQR/NAPAS bank lists (the project's upstream copy is /work/shared/data/napas_banks.csv); Viettel Money,
VNPT Money, PVcomBank Pay, MAFC and VBSP and BVBank's current short name were added 2026-12.
data/bank_aliases.csv (bin, alias, kind) was added 2026-12: former names of renamed banks (kind "former")
and the names people write (kind "common", e.g. "Ngân hàng Ngoại thương"), all searchable without diacritics.
Renamed banks keep their BIN, so an alias only ever points at one BIN of the directory.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from .text import fold_ascii

DATA_FILE = "napas_banks.csv"
ALIASES_FILE = "bank_aliases.csv"


@dataclass(frozen=True)
class Bank:
    """One NAPAS member or wallet, as a placard and a payer's app name it."""

    bin: str
    code: str
    short_name: str
    name: str
    swift: str


def _rows(file_name: str) -> list[dict[str, str]]:
    """Read one CSV of the package's data folder."""
    raw = resources.files(__package__).joinpath("data").joinpath(file_name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(raw)))


@cache
def _directory() -> dict[str, Bank]:
    """Load the CSV once, on first use, so importing qr stays free of I/O."""
    banks = (Bank(r["bin"], r["code"], r["short_name"], r["name"], r["swift"] or "") for r in _rows(DATA_FILE))
    return {bank.bin: bank for bank in sorted(banks, key=lambda b: b.short_name.casefold())}


@cache
def _aliases() -> dict[str, tuple[str, ...]]:
    """Former and everyday names by BIN, in file order, loaded on first use like the directory."""
    aliases: dict[str, list[str]] = {}
    for row in _rows(ALIASES_FILE):
        aliases.setdefault(row["bin"], []).append(row["alias"])
    return {bin_: tuple(names) for bin_, names in aliases.items()}


@cache
def _search_keys() -> tuple[tuple[Bank, tuple[str, ...]], ...]:
    """Fold every name (and alias) once so searching is a plain substring test."""
    aliases = _aliases()
    return tuple(
        (
            bank,
            tuple(fold_ascii(s) for s in (bank.bin, bank.code, bank.short_name, bank.name, *aliases.get(bank.bin, ()))),
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


def bank_aliases(bin: str) -> tuple[str, ...]:
    """The former and everyday names of a bank (as written, with diacritics), so callers can show or match them."""
    return _aliases().get(bin, ())


def search_banks(query: str) -> list[Bank]:
    """Match a BIN, code, name or alias ignoring case and diacritics ("vietcom", "VCB", "ngoại thương")."""
    needle = fold_ascii(query)
    if not needle:
        return []
    ranked = [(rank, bank) for bank, aliases in _search_keys() if (rank := _rank(needle, aliases)) is not None]
    return [bank for _, bank in sorted(ranked, key=lambda pair: pair[0])]
