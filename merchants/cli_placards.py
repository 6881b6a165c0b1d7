"""`choqr placards`: print a market's placards to one PDF, recorded as a batch exactly like the web does.

The command runs the batch itself, in this process, through the same runner the job queue's workers use.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from merchants import db
from merchants.cli_common import fail
from merchants.errors import DomainError
from merchants.scope import SYSTEM


@click.command("placards")
@click.option("--market", "market_code", required=True, help="Market code, e.g. CAIRONG.")
@click.option("--layout", default="a4-4up", show_default=True, help="a6, a5, a4, a4-2up, a4-4up or a4-8up.")
@click.option("--only-needed", is_flag=True, help="Only stalls without a valid placard (new or to reprint).")
@click.option("--zone", default="", help="Only this zone / row, e.g. 'Dãy hải sản'.")
@click.option("--stall", "stalls", multiple=True, help="Only this stall code (repeatable).")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Where to write the PDF."
)
@with_appcontext
def placards(
    market_code: str, layout: str, only_needed: bool, zone: str, stalls: tuple[str, ...], output: Path
) -> None:
    """Print a batch of placards for one market to a PDF, as the system user; reprints revoke old serials."""
    from merchants.services import batch_queries as bq
    from merchants.services import batches as bs
    from merchants.services.placards import batch_serial
    from merchants.services.registry_queries import get_market_by_code

    engine = db.get_engine()
    req = bs.BatchRequest(
        layout=layout, zone=zone.strip(), stall_codes=tuple(dict.fromkeys(stalls)), only_needed=only_needed
    )
    with db.session_scope(engine) as session:
        try:
            info = get_market_by_code(session, SYSTEM, market_code)
            job = bs.start_batch(session, info, req, batch_dir=current_app.config["BATCH_DIR"])
        except DomainError as exc:
            fail(exc)
    click.echo(f"Lô in #{job.batch_id}: {len(job.stall_codes)} bảng, khổ {layout}…", err=True)
    batch = bs.run_batch(engine, job)
    if batch is None or batch.status != bs.DONE:
        fail(batch.error if batch and batch.error else "lô in không hoàn tất.", exit_code=1)
    shutil.copyfile(bs.pdf_path(job.batch_dir, job.batch_id), output)
    click.echo(
        f"Đã in {batch.total} bảng ({bq.sheets(layout, batch.total)} tờ, {layout}) vào {output} "
        f"– lô #{batch.id}, số phiếu {batch_serial(market_code, batch.id, 1)}…"
    )


commands: list[click.Command] = [placards]
