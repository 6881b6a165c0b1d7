"""Passwords: the one rule a new password must pass, and argon2id hashes at a cost set by configuration.

Pure (no Flask, no database). The rule serves the forms, set-password links, the CLI and self-service alike;
its refusals carry their own message template, so every edge says them in the user's language.
``app.create_app`` calls ``configure`` from its PASSWORD_HASH_* settings, so the web app, the ``choqr`` commands
and the worker hash alike, and the tests choose a cheap cost the same way rather than by patching. The defaults
are argon2-cffi's RFC 9106 low-memory profile (t=3, m=64 MiB, p=4): what an installation gets unless it says
otherwise.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

from merchants.errors import N_, InvalidField

MIN_PASSWORD: Final = 8
MAX_PASSWORD: Final = 128  # argon2 takes any length; a cap keeps a huge form field from costing a worker
COMMON_PASSWORDS: Final = Path(__file__).resolve().parent / "data" / "common_passwords.txt"

DEFAULT_TIME_COST: Final = RFC_9106_LOW_MEMORY.time_cost
DEFAULT_MEMORY_KIB: Final = RFC_9106_LOW_MEMORY.memory_cost
DEFAULT_PARALLELISM: Final = RFC_9106_LOW_MEMORY.parallelism
UNUSABLE_PREFIX: Final = "!"  # never produced by argon2: no password can ever match such a hash


class PasswordRefused(InvalidField):
    """A password the rule refuses, under the ``password`` field; ``reason`` names the part of the rule."""

    code = "password_refused"

    def __init__(self, reason: str, message: str, **params: object) -> None:
        super().__init__("password", message, **params)
        self.reason = reason


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of the most common passwords, lowercase, read once per process."""
    return frozenset(line.strip() for line in COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines() if line.strip())


def check_password(password: str, *, username: str = "") -> None:
    """The one password rule for forms, links, the CLI and self-service; raises ``PasswordRefused``."""
    password = password or ""
    if len(password) < MIN_PASSWORD:
        raise PasswordRefused("too_short", N_("Mật khẩu phải có ít nhất %(count)s ký tự."), count=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        raise PasswordRefused("too_long", N_("Mật khẩu dài tối đa %(count)s ký tự."), count=MAX_PASSWORD)
    if password.lower() in common_passwords():
        raise PasswordRefused("common", N_("Mật khẩu này quá phổ biến nên rất dễ bị đoán. Hãy chọn mật khẩu khác."))
    if username and password.lower() == username.strip().lower():
        raise PasswordRefused("username", N_("Mật khẩu không được trùng với tên đăng nhập."))


def check_new_password(current: str, new: str, *, username: str) -> None:
    """A change of one's own password: the rule, and a new password that differs from the current one."""
    check_password(new, username=username)
    if new == current:
        raise PasswordRefused("same", N_("Mật khẩu mới phải khác mật khẩu hiện tại."))


# --- hashes ----------------------------------------------------------------------------------------------------


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
