"""`choqr worker`, `choqr backup`, `choqr restore`: the job consumer and the registry's backups."""

from __future__ import annotations

import logging
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from merchants.cli_common import fail


@click.command("worker")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Jobs run at once (default: config JOBS_WORKERS, else 2).",
)
@click.option(
    "--worker-type",
    type=click.Choice(["thread", "process"]),
    default="thread",
    show_default=True,
    help="'process' renders on several cores (Linux, forks).",
)
@with_appcontext
def worker(workers: int | None, worker_type: str) -> None:
    """Run the background jobs (print batches) until stopped: SIGTERM lets running batches finish (up to 30 s),
    Ctrl+C stops at once; a batch cut off resumes at its last chunk when a worker starts again."""
    from merchants import jobs

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        consumer = jobs.consumer(current_app._get_current_object(), workers=workers, worker_type=worker_type)
    except jobs.JobsConfigError as exc:
        fail(str(exc))
    click.echo(
        f"Tiến trình nền ChoQR: {consumer.workers} luồng ({worker_type}), hàng đợi "
        f"{type(consumer.huey.storage).__name__}.",
        err=True,
    )
    consumer.run()


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup(path: Path) -> None:
    """Back up the database and the finished batch PDFs to one .tar file at PATH, while the app keeps running."""
    from merchants.services import backup as bk

    try:
        info = bk.backup(current_app.config["DATABASE_URL"], current_app.config["BATCH_DIR"], path)
    except bk.BackupError as exc:
        fail(exc)
    click.echo(f"Đã sao lưu vào {path}: cơ sở dữ liệu {info.dialect} (bản {info.revision}), {info.batches} tệp PDF.")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore(path: Path) -> None:
    """Restore a `choqr backup` file into an EMPTY database (DATABASE_URL) and the batch folder."""
    from merchants.services import backup as bk

    try:
        info = bk.restore(current_app.config["DATABASE_URL"], current_app.config["BATCH_DIR"], path)
    except bk.BackupError as exc:
        fail(exc)
    click.echo(f"Đã khôi phục bản sao lưu lúc {info.created_at} (bản {info.revision}), {info.batches} tệp PDF.")
    if not info.schema_current:
        click.echo("Bản sao lưu cũ hơn mã nguồn: hãy chạy `choqr init-db` để nâng cấp cơ sở dữ liệu.", err=True)


commands: list[click.Command] = [worker, backup, restore]
