"""``yure archive import PATH...``: load history into the archive (docs/cli.md).

Driver: opens the archive named by the settings (``YURE_DATABASE_URL``, else the SQLite
file under ``YURE_DATA_DIR``), runs the :class:`~archive.importer.Importer` over the
paths, shows progress on stderr (one line rewritten in place on a terminal, a line every
few seconds otherwise) and prints the summary. Exit status 0 when every document was
usable, 1 when some were not (the rest is imported), 2 when the import could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from yure.archive.errors import ArchiveError
from yure.archive.importer import Importer, ImportStats
from yure.archive.store import Archive
from yure.ingest.places import GeoPlaces
from yure.settings import Settings

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_FAILED = 2
#: Progress lines when stderr is not a terminal, at most this often.
LOG_PROGRESS_EVERY_S = 5.0


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register ``yure archive import PATH...`` on ``subparsers``."""
    parser = subparsers.add_parser(
        "archive",
        help="the history archive: import JMA XML and P2P地震情報 JSON history",
        description="Work on the history archive (docs/cli.md).",
    )
    actions = parser.add_subparsers(dest="archive_command", required=True)
    importing = actions.add_parser(
        "import",
        help="import JMA XML telegrams and P2P地震情報 JSON (files, folders, .tar.gz, .zip)",
        description="Import history; importing the same files twice changes nothing.",
    )
    importing.add_argument("paths", nargs="+", metavar="PATH", type=Path)
    importing.add_argument("--quiet", action="store_true", help="no progress, only the summary")
    importing.set_defaults(handler=_run)


def _progress_line(stats: ImportStats, started: float) -> str:
    rate = stats.telegrams / max(time.monotonic() - started, 1e-6)
    return (
        f"{stats.documents} documents, {stats.telegrams} telegrams, "
        f"{stats.added} archived, {stats.problems} problems ({rate:.0f}/s)"
    )


async def run_import(
    settings: Settings, paths: list[Path], *, err: TextIO, quiet: bool = False
) -> tuple[int, ImportStats | None]:
    """Import ``paths`` into the archive of ``settings``; return the exit status and
    the stats (None when the import could not start)."""
    started = time.monotonic()
    tty = err.isatty()

    def progress(stats: ImportStats) -> None:
        if not quiet:
            end = "\r" if tty else "\n"
            print(_progress_line(stats, started), end=end, file=err, flush=True)

    try:
        archive = await Archive.open(settings.database_url, settings.data_dir)
    except ArchiveError as err_open:
        print(f"yure archive import: {err_open}", file=err)
        return EXIT_FAILED, None
    try:
        importer = Importer(
            archive,
            GeoPlaces.load,
            progress=progress,
            progress_every_s=0.2 if tty else LOG_PROGRESS_EVERY_S,
        )
        stats = await importer.run(paths)
    except ArchiveError as failure:
        if tty and not quiet:
            print(file=err)
        print(f"yure archive import: {failure}", file=err)
        return EXIT_FAILED, importer.stats
    finally:
        await archive.close()
    if tty and not quiet:
        print(file=err)
    seconds = time.monotonic() - started
    print(f"{stats.summary()}\ntime: {seconds:.1f} s", file=err)
    return (EXIT_SOME_FAILED if stats.problems else EXIT_OK), stats


def _run(args: argparse.Namespace, settings: Settings) -> int:
    status, _ = asyncio.run(
        run_import(settings, list(args.paths), err=sys.stderr, quiet=args.quiet)
    )
    return status
