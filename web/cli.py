"""``yure serve``: the HTTP/WebSocket server (and, under a lease, the JMA ingest).

Options given on the command line override the matching :class:`Settings`
fields (``YURE_HOST``, ``YURE_PORT``, ``YURE_WORKERS``).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from typing import Any

from yure.settings import Settings, parse_port, parse_positive_int


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register ``yure serve`` on ``subparsers``."""
    parser = subparsers.add_parser(
        "serve",
        help="serve the live feed (WebSocket, SSE, JSON, Atom) and run the ingest",
        description="Serve the live feed. Without REDIS_URL an embedded redis-server is "
        "started under YURE_DATA_DIR and stopped on exit.",
    )
    parser.add_argument("--host", default=None, help="address to bind (YURE_HOST)")
    parser.add_argument(
        "--port", type=_checked(parse_port), default=None, help="port, 0 = any (YURE_PORT)"
    )
    parser.add_argument(
        "--workers",
        type=_checked(parse_positive_int),
        default=None,
        help="broadcaster processes (YURE_WORKERS)",
    )
    parser.add_argument(
        "--no-ingest", action="store_true", help="never poll JMA from this node (YURE_INGEST)"
    )
    parser.set_defaults(handler=_serve)


def _checked(parse: Callable[[str], int]) -> Callable[[str], int]:
    """``parse`` (a Settings validator) as an argparse type: its ValueError becomes
    argparse's usage error, with the validator's words."""

    def check(raw: str) -> int:
        try:
            return parse(raw)
        except ValueError as err:
            raise argparse.ArgumentTypeError(f"{raw!r}: {err}") from err

    return check


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    changes: dict[str, Any] = {}
    if args.host is not None:
        changes["host"] = args.host
    if args.port is not None:
        changes["port"] = args.port
    if args.workers is not None:
        changes["workers"] = args.workers
    if args.no_ingest:
        changes["ingest_enabled"] = False
    from yure.web import serve

    return serve.run(dataclasses.replace(settings, **changes))
