"""Password hashes: argon2id at a cost set by configuration, and a verify that tells no one which accounts exist.

Pure (no Flask, no database): ``app.create_app`` calls ``configure`` from its PASSWORD_HASH_* settings, so the
web app, the ``choqr`` commands and the worker hash alike, and the tests choose a cheap cost the same way rather
than by patching. The defaults are argon2-cffi's RFC 9106 low-memory profile (t=3, m=64 MiB, p=4): what an
installation gets unless it says otherwise.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

DEFAULT_TIME_COST: Final = RFC_9106_LOW_MEMORY.time_cost
DEFAULT_MEMORY_KIB: Final = RFC_9106_LOW_MEMORY.memory_cost
DEFAULT_PARALLELISM: Final = RFC_9106_LOW_MEMORY.parallelism
UNUSABLE_PREFIX: Final = "!"  # never produced by argon2: no password can ever match such a hash


@dataclass
class _Hashing:
    hasher: PasswordHasher
    dummy: str | None = None  # made on first need, so configuring costs nothing and no hash is made at import


_current = _Hashing(PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY))


def configure(
    *,
    time_cost: int = DEFAULT_TIME_COST,
    memory_cost: int = DEFAULT_MEMORY_KIB,
    parallelism: int = DEFAULT_PARALLELISM,
) -> None:
    """Hash new passwords at this cost (``memory_cost`` in KiB); stored hashes of another cost still verify and
    are rehashed at their user's next sign-in (``needs_rehash``)."""
    global _current
    time_cost, memory_cost, parallelism = int(time_cost), int(memory_cost), int(parallelism)
    # argon2's own limits, checked here so a mistyped setting stops the app at start, not the first sign-in.
    if time_cost < 1 or parallelism < 1 or memory_cost < 8 * parallelism:
        raise ValueError(
            f"argon2 needs time_cost >= 1, parallelism >= 1 and memory_cost >= 8 KiB per lane; got "
            f"time_cost={time_cost}, memory_cost={memory_cost}, parallelism={parallelism}"
        )
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    _current = _Hashing(hasher)


def hash_password(password: str) -> str:
    """The argon2id hash to store, with its salt and parameters in the string."""
    return _current.hasher.hash(password)


def unusable_hash() -> str:
    """What a user without a password stores: random, so two such rows never look alike, and never a match."""
    return UNUSABLE_PREFIX + secrets.token_hex(16)


def is_usable(stored: str) -> bool:
    """False for a hash from ``unusable_hash`` (a user created without a password)."""
    return not stored.startswith(UNUSABLE_PREFIX)


def _dummy_hash() -> str:
    if _current.dummy is None:
        _current.dummy = _current.hasher.hash("choqr-no-such-user")
    return _current.dummy


def verify_password(stored: str | None, password: str) -> bool:
    """Whether the password matches the stored hash.

    With no usable hash (no such user, or one who has not chosen a password yet) a dummy hash of the current cost
    is verified instead and the answer is False: such a name costs as long as a wrong password, so sign-in timing
    tells nobody which accounts exist.
    """
    real = stored if stored is not None and is_usable(stored) else None
    try:
        _current.hasher.verify(real or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return real is not None


def needs_rehash(stored: str) -> bool:
    """Whether a (verified) hash was made at another cost than the configured one."""
    return is_usable(stored) and _current.hasher.check_needs_rehash(stored)
