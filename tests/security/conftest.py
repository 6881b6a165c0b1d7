"""Shared by the security tests: argon2 at its lowest cost (the same code path, many times faster)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from merchants.services import users


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
