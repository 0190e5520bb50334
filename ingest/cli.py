"""``yure parse FILE...``: print each JMA telegram as one JSON line (docs/cli.md).

Driver: reads the files (at most ``MAX_TELEGRAM_BYTES + 1`` bytes each, so that an
oversized file is refused by the parser without being read whole) and writes
``event_to_json`` of each, in input order, one object per line on stdout. A file that
cannot be read or is not a usable telegram gets one line ``yure parse: FILE: REASON``
on stderr; the others are still parsed, and the exit status is then 1.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, BinaryIO, TextIO

import orjson

from yure.ingest.errors import TelegramError
from yure.ingest.event import event_to_json
from yure.ingest.telegram import MAX_TELEGRAM_BYTES, parse_telegram
from yure.settings import Settings

#: Exit status when every file was parsed / when at least one was not.
EXIT_OK = 0
EXIT_SOME_FAILED = 1


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register ``yure parse FILE...`` on ``subparsers``."""
    parser = subparsers.add_parser(
        "parse",
        help="parse JMA 防災情報XML telegrams into JSON lines",
        description="Print one JSON object per telegram file, in input order (docs/cli.md).",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="JMA telegram (XML) file")
    parser.set_defaults(handler=_run)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read(MAX_TELEGRAM_BYTES + 1)


def parse_files(paths: list[str], out: BinaryIO, err: TextIO) -> int:
    """Parse every file in ``paths``, writing JSON lines to ``out`` and errors to ``err``.

    Returns:
        ``EXIT_OK`` when every file gave an event, else ``EXIT_SOME_FAILED``.
    """
    status = EXIT_OK
    for path in paths:
        try:
            event = parse_telegram(_read(path), file_name=path)
        except OSError as error:
            reason = error.strerror or str(error)
        except TelegramError as error:
            reason = str(error)
        else:
            out.write(orjson.dumps(event_to_json(event)) + b"\n")
            continue
        out.flush()
        print(f"yure parse: {path}: {reason}", file=err, flush=True)
        status = EXIT_SOME_FAILED
    out.flush()
    return status


def _run(args: argparse.Namespace, settings: Settings) -> int:
    return parse_files(list(args.files), sys.stdout.buffer, sys.stderr)
