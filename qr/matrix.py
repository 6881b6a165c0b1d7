"""QR symbol construction: qrcode decides segments and version, the rest is done on integers here.

``qrcode`` builds the symbol once per mask in pure Python and scores each, and its Reed-Solomon step
works through polynomial objects: most of its run time, paid for every placard and every import row.
Here qrcode's segmenting and version choice are kept (``add_data``, ``best_fit``); the codewords are made
with log/antilog tables and placed along a cached per-version module order; the whole symbol is one
integer, so the eight masked candidates are XORs and the ISO/IEC 18004 penalty rules (N1 runs, N2
blocks, N3 finder-like patterns, N4 dark balance) are shifts and popcounts. Tests hold each candidate
equal to the symbol qrcode draws for that mask and the score equal to ``qrcode.util.lost_point``, so the
result is qrcode's own symbol with the standard's mask choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import qrcode
import qrcode.constants
import qrcode.exceptions
from qrcode import base as qrbase
from qrcode import util as qrutil

# A symbol is one Python int: module (row r, column c) is bit r*n + c, dark = 1. The penalty rules then
# become a few shifts, masks and popcounts over the whole symbol instead of loops over modules.
FINDER_LIKE = ((1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0), (0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1))


def _to_int(modules: Sequence[Sequence[bool | None]]) -> int:
    n = len(modules)
    return sum(1 << (r * n + c) for r, row in enumerate(modules) for c, dark in enumerate(row) if dark)


@lru_cache(maxsize=64)
def _masks(n: int) -> tuple[int, int, int, int, int, int]:
    """Masks of the positions where a neighbour (or an 11-module window) stays inside the symbol."""
    everything = (1 << (n * n)) - 1
    row = (1 << n) - 1
    not_last_col = sum(((row >> 1) << (r * n)) for r in range(n))
    window_cols = sum((((1 << (n - 10)) - 1) << (r * n)) for r in range(n))
    not_last_row = (1 << (n * (n - 1))) - 1
    window_rows = (1 << (n * (n - 10))) - 1
    return everything, not_last_col, not_last_row, not_last_col & not_last_row, window_cols, window_rows


def _runs(equal: int, step: int) -> int:
    """N1 from a map of 'same as the next module': a run of L >= 5 scores L - 2 (3 for five, +1 each more)."""
    windows = equal & (equal >> step) & (equal >> 2 * step) & (equal >> 3 * step)
    return windows.bit_count() + 2 * (windows & ~(windows << step)).bit_count()


def _finders(symbol: int, light: int, step: int, valid: int) -> int:
    """N3: 1:1:3:1:1 finder-like runs with four light modules on one side, along ``step``."""
    count = 0
    for pattern in FINDER_LIKE:
        hits = valid
        for k, dark in enumerate(pattern):
            hits &= (symbol if dark else light) >> (k * step)
        count += hits.bit_count()
    return 40 * count


def penalty_of(symbol: int, n: int) -> int:
    """ISO/IEC 18004 mask penalty of a finished symbol, equal to ``qrcode.util.lost_point``."""
    everything, not_last_col, not_last_row, inner, window_cols, window_rows = _masks(n)
    light = ~symbol & everything
    same_h = ~(symbol ^ (symbol >> 1)) & not_last_col
    same_v = ~(symbol ^ (symbol >> n)) & not_last_row
    score = _runs(same_h, 1) + _runs(same_v, n)
    score += 3 * (same_h & same_v & (same_v >> 1) & inner).bit_count()
    score += _finders(symbol, light, 1, window_cols) + _finders(symbol, light, n, window_rows)
    score += int(abs(float(symbol.bit_count()) / (n * n) * 100 - 50) / 5) * 10
    return score


def penalty(modules: list[list[bool]] | tuple[tuple[bool, ...], ...]) -> int:
    """``penalty_of`` for a symbol given as rows of booleans."""
    return penalty_of(_to_int(modules), len(modules))


@lru_cache(maxsize=64)
def _layout(version: int, ec: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """For a version and level: each mask's flips on the data modules, each mask's template of the other
    modules (finders, timing, alignment, format and version information), and where each data bit goes."""
    code = qrcode.QRCode(version=version, error_correction=ec, border=0)
    n = code.modules_count = version * 4 + 17
    code.modules = [[None] * n for _ in range(n)]
    code.setup_position_probe_pattern(0, 0)
    code.setup_position_probe_pattern(n - 7, 0)
    code.setup_position_probe_pattern(0, n - 7)
    code.setup_position_adjust_pattern()
    code.setup_timing_pattern()
    code.setup_type_info(True, 0)
    if version >= 7:
        code.setup_type_number(True)
    is_data = [[cell is None for cell in row] for row in code.modules]
    flips = tuple(
        _to_int([[is_data[r][c] and qrutil.mask_func(p)(r, c) for c in range(n)] for r in range(n)]) for p in range(8)
    )
    if version >= 7:
        code.setup_type_number(False)
    templates = []
    for p in range(8):
        code.setup_type_info(False, p)
        templates.append(_to_int([[bool(cell) for cell in row] for row in code.modules]))
    return flips, tuple(templates), _placement(is_data)


def _placement(is_data: list[list[bool]]) -> tuple[int, ...]:
    """Bit index (r*n + c) of each data bit in order: the two-column zigzag, skipping function modules."""
    n = len(is_data)
    order: list[int] = []
    upward = True
    col = n - 1
    while col > 0:
        if col == 6:  # the vertical timing pattern is skipped as a whole column
            col -= 1
        for r in range(n - 1, -1, -1) if upward else range(n):
            order.extend(r * n + c for c in (col, col - 1) if is_data[r][c])
        upward = not upward
        col -= 2
    return tuple(order)


@lru_cache(maxsize=64)
def _generator_logs(ec_count: int) -> tuple[int, ...]:
    """Logs of the Reed-Solomon generator's coefficients after the leading 1, for ``ec_count`` codewords."""
    poly = [1]
    for i in range(ec_count):
        nxt = [0] * (len(poly) + 1)
        for j, coef in enumerate(poly):
            nxt[j] ^= coef
            if coef:
                nxt[j + 1] ^= qrbase.EXP_TABLE[(qrbase.LOG_TABLE[coef] + i) % 255]
        poly = nxt
    return tuple(qrbase.LOG_TABLE[c] for c in poly[1:])


def _ec_codewords(block: list[int], ec_count: int) -> list[int]:
    """Reed-Solomon remainder of one block, by table lookups instead of polynomial objects."""
    exp, log, gen = qrbase.EXP_TABLE, qrbase.LOG_TABLE, _generator_logs(ec_count)
    rem = [0] * ec_count
    for byte in block:
        factor = byte ^ rem[0]
        rem = rem[1:]
        rem.append(0)
        if factor:
            lf = log[factor]
            for i, g in enumerate(gen):
                rem[i] ^= exp[(g + lf) % 255]
    return rem


class _Bits:
    """The one method of qrcode's BitBuffer that its segments write through, on a Python int."""

    __slots__ = ("value", "length")

    def __init__(self) -> None:
        self.value = 0
        self.length = 0

    def put(self, num: int, length: int) -> None:
        self.value = (self.value << length) | (num & ((1 << length) - 1))
        self.length += length


def _codewords(version: int, ec: int, segments: list[qrutil.QRData]) -> bytes:
    """Data and error correction codewords, interleaved, exactly as ``qrcode.util.create_data`` makes them."""
    bits = _Bits()
    for seg in segments:
        bits.put(seg.mode, 4)
        bits.put(len(seg), qrutil.length_in_bits(seg.mode, version))
        seg.write(bits)
    blocks = qrbase.rs_blocks(version, ec)
    limit = sum(b.data_count for b in blocks) * 8
    if bits.length > limit:
        raise qrcode.exceptions.DataOverflowError(f"Code length overflow ({bits.length} > {limit} bits)")
    bits.put(0, min(limit - bits.length, 4))
    if bits.length % 8:
        bits.put(0, 8 - bits.length % 8)
    stream = list(bits.value.to_bytes(bits.length // 8, "big"))
    stream += [qrutil.PAD0 if i % 2 == 0 else qrutil.PAD1 for i in range((limit - bits.length) // 8)]
    data_blocks, ec_blocks, offset = [], [], 0
    for block in blocks:
        chunk = stream[offset : offset + block.data_count]
        offset += block.data_count
        data_blocks.append(chunk)
        ec_blocks.append(_ec_codewords(chunk, block.total_count - block.data_count))
    out = bytearray()
    for group in (data_blocks, ec_blocks):
        for i in range(max(len(b) for b in group)):
            out.extend(b[i] for b in group if i < len(b))
    return bytes(out)


def candidates(payload: str, ec: int) -> tuple[int, tuple[int, ...]]:
    """The symbol size and the eight finished symbols (one per mask) of ``payload`` at level ``ec``."""
    code = qrcode.QRCode(error_correction=ec, border=0)
    code.add_data(payload)
    code.best_fit(start=None)
    flips, templates, order = _layout(code.version, ec)
    words = _codewords(code.version, ec, code.data_list)
    bits = format(int.from_bytes(words, "big"), f"0{len(words) * 8}b")
    # Remainder modules past the last codeword stay light, as in qrcode.
    raw = sum(1 << i for i, bit in zip(order, bits, strict=False) if bit == "1")
    # Data modules take each mask; every other module (finders, timing, format bits) comes from its template.
    return code.version * 4 + 17, tuple((raw ^ flips[p]) | templates[p] for p in range(8))


_BITS_TO_BYTES = bytes.maketrans(b"01", b"\x00\x01")
_BYTES_TO_BITS = bytes.maketrans(b"\x00\x01", b"01")


def to_rows(symbol: int, n: int) -> tuple[tuple[bool, ...], ...]:
    """A symbol int as rows of booleans (dark = True)."""
    cells = format(symbol, f"0{n * n}b")[::-1].encode().translate(_BITS_TO_BYTES)
    return tuple(tuple(map(bool, cells[r * n : (r + 1) * n])) for r in range(n))


def build_matrix(payload: str, ec: int) -> tuple[tuple[bool, ...], ...]:
    """The finished symbol (no quiet zone) with the lowest-penalty mask; raises qrcode's overflow errors."""
    n, symbols = candidates(payload, ec)
    scores = [penalty_of(symbol, n) for symbol in symbols]
    return to_rows(symbols[scores.index(min(scores))], n)


def pack_matrix(matrix: tuple[tuple[bool, ...], ...]) -> str:
    """A compact text form of a symbol (one hex number a row) to store beside the payload it encodes."""
    return ",".join(format(int(bytes(row).translate(_BYTES_TO_BITS)[::-1], 2), "x") for row in matrix)


def unpack_matrix(text: str) -> tuple[tuple[bool, ...], ...]:
    """Read ``pack_matrix`` output back; refuses anything that is not a square QR symbol of a real version."""
    from .errors import VietQRError

    parts = text.split(",") if text else []
    n = len(parts)
    if n < 21 or n > 177 or (n - 17) % 4:
        raise VietQRError(f"packed matrix: {n} rows is not a QR symbol size (21, 25, ... 177)")
    try:
        rows = [int(p, 16) for p in parts]
    except ValueError as exc:
        raise VietQRError(f"packed matrix: not hexadecimal rows ({exc})") from exc
    if any(r >> n for r in rows):
        raise VietQRError(f"packed matrix: a row is wider than {n} modules")
    return tuple(tuple(bool((r >> c) & 1) for c in range(n)) for r in rows)
