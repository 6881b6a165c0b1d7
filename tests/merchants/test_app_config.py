"""Configuration that must hold when the app runs in several worker processes."""

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from app import _secret_key


def _key(instance: str) -> str:
    return _secret_key(Path(instance))


def test_workers_starting_together_share_one_secret_key(tmp_path):
    with ProcessPoolExecutor(4) as pool:
        keys = set(pool.map(_key, [str(tmp_path)] * 16))
    assert len(keys) == 1 and len(keys.pop()) == 64
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
