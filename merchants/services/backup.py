"""Backups of the registry: the database and the finished batch PDFs in one .tar, and restoring one.

SQLite is copied with sqlite3's online backup API in one step: a read transaction, so the copy is one
consistent moment while officers keep registering (WAL lets their writes go on). PostgreSQL is dumped by
``pg_dump`` in its custom format (its own snapshot), restored by ``pg_restore``. A restore goes only into an
empty database, so it can never mix two registries; the schema is then checked against the code.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url

from merchants.db import make_engine, schema_is_current
from merchants.errors import N_, DomainError
from merchants.models import utcnow
from merchants.services.batch_files import is_pdf, pdf_path

FORMAT = 1
MANIFEST = "manifest.json"
DUMPS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
_BATCH_MEMBER = re.compile(r"^batches/(\d+)\.pdf$")


class BackupError(DomainError):
    """A backup or restore that cannot be done; ``field`` names what is wrong, the message says how to fix it."""

    def __init__(self, field: str, message: str, **params: Any) -> None:
        super().__init__(message, field=field, **params)


@dataclass(frozen=True)
class BackupInfo:
    """What an archive holds: which database kind, at which migration, made when, with how many PDFs."""

    dialect: str
    revision: str | None
    created_at: str
    batches: int
    schema_current: bool = True  # after a restore: False if the backup predates this code (run init-db)


def backup(database_url: str, batch_dir: Path | str, dest: Path | str) -> BackupInfo:
    """Write the database and every finished batch PDF to the .tar ``dest`` (whole, or not at all)."""
    dest = Path(dest)
    dialect = _dialect(database_url)
    with tempfile.TemporaryDirectory(prefix="choqr-backup-") as work:
        dump = Path(work) / DUMPS[dialect]
        if dialect == "sqlite":
            _sqlite_copy(_sqlite_path(database_url, "DATABASE_URL"), dump)
        else:
            _run(
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={dump}",
                env=_pg_env(database_url),
            )
        engine = make_engine(_sqlite_url(dump) if dialect == "sqlite" else database_url)
        try:
            revision = _revision(engine)
        finally:
            engine.dispose()
        pdfs = sorted(p for p in Path(batch_dir).glob("*.pdf") if is_pdf(p.name)) if Path(batch_dir).is_dir() else []
        info = BackupInfo(dialect, revision, utcnow().isoformat(timespec="seconds"), len(pdfs))
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
        os.close(fd)
        try:
            with tarfile.open(tmp, "w") as tar:
                _add_bytes(tar, MANIFEST, json.dumps({"format": FORMAT, **info.__dict__}, indent=2).encode())
                tar.add(dump, arcname=DUMPS[dialect])
                for pdf in pdfs:
                    tar.add(pdf, arcname=f"batches/{pdf.name}")
            os.replace(tmp, dest)
        finally:
            Path(tmp).unlink(missing_ok=True)
    return info


def restore(database_url: str, batch_dir: Path | str, src: Path | str) -> BackupInfo:
    """Load the archive ``src`` into the EMPTY database at ``database_url`` and its PDFs into ``batch_dir``."""
    dialect = _dialect(database_url)
    with tarfile.open(src, "r") as tar:
        manifest = _manifest(tar)
        if manifest["dialect"] != dialect:
            raise BackupError(
                "DATABASE_URL",
                N_("Bản sao lưu là của %(source)s, không nạp được vào %(target)s."),
                source=manifest["dialect"],
                target=dialect,
            )
        _require_empty(database_url)
        with tempfile.TemporaryDirectory(prefix="choqr-restore-") as work:
            dump = Path(work) / DUMPS[dialect]
            _extract(tar, DUMPS[dialect], dump)
            if dialect == "sqlite":
                _sqlite_copy(dump, _sqlite_path(database_url, "DATABASE_URL"))
            else:
                _run(
                    _tool("pg_restore"),
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--single-transaction",
                    f"--dbname={_pg_env(database_url)['PGDATABASE']}",
                    str(dump),
                    env=_pg_env(database_url),
                )
        batches = 0
        for member in tar.getmembers():
            match = _BATCH_MEMBER.match(member.name)
            if match and member.isfile():
                _extract(tar, member.name, pdf_path(batch_dir, int(match.group(1))))
                batches += 1
    engine = make_engine(database_url)
    try:
        current = schema_is_current(engine)
    finally:
        engine.dispose()
    return BackupInfo(dialect, manifest.get("revision"), str(manifest.get("created_at", "")), batches, current)


def _dialect(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in DUMPS:
        raise BackupError(
            "DATABASE_URL", N_("Không sao lưu được cơ sở dữ liệu loại '%(kind)s' (chỉ SQLite, PostgreSQL)."), kind=name
        )
    return name


def _sqlite_path(url: str, field: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(field, N_("'%(url)s' không phải một tệp SQLite."), url=url)
    return Path(database)


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy a SQLite database page by page in one step of the online backup API (one consistent snapshot)."""
    if not source.exists():
        raise BackupError("DATABASE_URL", N_("Không có tệp cơ sở dữ liệu %(path)s."), path=str(source))
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst, pages=-1)
    finally:
        dst.close()
        src.close()


def _require_empty(url: str) -> None:
    """Refuse a database that already has tables: a restore never merges into another registry."""
    if url.startswith("sqlite") and not _sqlite_path(url, "DATABASE_URL").exists():
        return
    engine = make_engine(url)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise BackupError(
            "DATABASE_URL",
            N_("Cơ sở dữ liệu đích đã có %(count)s bảng (%(shown)s…). Chỉ khôi phục vào một cơ sở dữ liệu trống."),
            count=len(tables),
            shown=", ".join(sorted(tables)[:3]),
        )


def _revision(engine: Engine) -> str | None:
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _manifest(tar: tarfile.TarFile) -> dict:
    try:
        data = json.loads(tar.extractfile(MANIFEST).read())
    except (KeyError, AttributeError, ValueError) as exc:
        raise BackupError("PATH", N_("Tệp không phải bản sao lưu ChoQR (thiếu %(name)s)."), name=MANIFEST) from exc
    if data.get("format") != FORMAT or data.get("dialect") not in DUMPS:
        raise BackupError(
            "PATH", N_("Bản sao lưu định dạng %(format)s không đọc được."), format=repr(data.get("format"))
        )
    return data


def _extract(tar: tarfile.TarFile, name: str, target: Path) -> None:
    """Copy one member to ``target`` (by name, never by the member's own path)."""
    stream = tar.extractfile(name)
    if stream is None:
        raise BackupError("PATH", N_("Bản sao lưu thiếu %(name)s."), name=name)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        shutil.copyfileobj(stream, out)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    member = tarfile.TarInfo(name)
    member.size, member.mtime = len(data), int(datetime.now().timestamp())
    tar.addfile(member, io.BytesIO(data))


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            name,
            N_(
                "Không tìm thấy %(tool)s trên PATH. Hãy cài gói postgresql-client cùng phiên bản "
                "máy chủ PostgreSQL (ví dụ: apt-get install postgresql-client)."
            ),
            tool=name,
        )
    return found


def _pg_env(url: str) -> dict[str, str]:
    """libpq settings for pg_dump/pg_restore from the URL: the password stays out of the process list."""
    parsed = make_url(url)
    env = dict(os.environ)
    for key, value in (
        ("PGHOST", parsed.host),
        ("PGPORT", parsed.port),
        ("PGUSER", parsed.username),
        ("PGPASSWORD", parsed.password),
        ("PGDATABASE", parsed.database),
        ("PGSSLMODE", parsed.query.get("sslmode")),
    ):
        if value:
            env[key] = str(value)
    return env


def _run(*args: str, env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tool = Path(args[0]).name
        raise BackupError(
            tool,
            N_("%(tool)s lỗi (mã %(code)s): %(stderr)s"),
            tool=tool,
            code=done.returncode,
            stderr=done.stderr.strip()[-500:],
        )
