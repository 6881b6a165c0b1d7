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


def test_a_database_behind_the_code_answers_503_with_the_fix(tmp_path):
    from app import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    resp = app.test_client().get("/login")
    assert resp.status_code == 503
    assert "choqr init-db" in resp.get_data(as_text=True)
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    assert app.test_client().get("/login").status_code == 200
    app.extensions["choqr.engine"].dispose()
