"""Where a print batch's files live, and how they are written so that a PDF is there whole or not at all.

In ``BATCH_DIR``: ``<id>.pdf`` (the download, only for a finished batch), ``<id>.work/`` (its chunks while it
renders; kept across a crash so a retry resumes) and ``.<name>.<random>.tmp`` (a file being written, renamed
into place once whole). ``<id>.part`` is what earlier versions left behind.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

_OWNED = re.compile(r"^\.?(\d+)\.(?:pdf|work|part)(?:\..*\.tmp)?$")


def pdf_path(batch_dir: Path | str, batch_id: int) -> Path:
    """The finished batch's PDF."""
    return Path(batch_dir) / f"{batch_id}.pdf"


def work_dir(batch_dir: Path | str, batch_id: int) -> Path:
    """The folder of a batch's rendered chunks, until the batch is done or failed."""
    return Path(batch_dir) / f"{batch_id}.work"


def temp_beside(path: Path) -> Path:
    """A new empty file in ``path``'s folder to write into, then ``os.replace`` onto ``path`` (atomic there)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # batch PDFs carry names: private to the app
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    return Path(name)


def owner(name: str) -> int | None:
    """The batch id a file or folder of ``BATCH_DIR`` belongs to, or None for anything else."""
    match = _OWNED.match(name)
    return int(match.group(1)) if match else None


def is_pdf(name: str) -> bool:
    """Whether ``name`` is a finished batch's PDF (as opposed to work in progress or leftovers)."""
    return re.fullmatch(r"\d+\.pdf", name) is not None


def remove(path: Path) -> None:
    """Delete a file or a whole folder; already gone is fine."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def remove_batch_files(batch_dir: Path | str, batch_id: int, *, keep_pdf: bool = False) -> list[str]:
    """Delete what belongs to one batch (its chunks, temporary files, old ``.part``; its PDF unless kept)."""
    folder = Path(batch_dir)
    if not folder.is_dir():
        return []
    removed = []
    for entry in folder.iterdir():
        if owner(entry.name) == batch_id and not (keep_pdf and is_pdf(entry.name)):
            remove(entry)
            removed.append(entry.name)
    return removed
