"""``yure geo``: tag coordinates with a prefecture (placeholder until locate lands)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from yure.settings import Settings


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register ``yure geo LAT LON`` on ``subparsers``."""
    parser = subparsers.add_parser("geo", help="tag coordinates with a prefecture")
    parser.add_argument("lat", nargs="?")
    parser.add_argument("lon", nargs="?")
    parser.add_argument("--csv", dest="csv_path", default=None)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    print("yure geo: not available yet", file=sys.stderr)
    return 1
