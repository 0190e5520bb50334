"""``yure serve``: the HTTP/WebSocket server (and, under a lease, the JMA ingest).

Options given on the command line override the matching :class:`Settings`
fields (``YURE_HOST``, ``YURE_PORT``, ``YURE_WORKERS``).
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from yure.settings import Settings


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register ``yure serve`` on ``subparsers``."""
    parser = subparsers.add_parser(
        "serve",
        help="serve the live feed (WebSocket, SSE, JSON, Atom) and run the ingest",
        description="Serve the live feed. Without REDIS_URL an embedded redis-server is "
        "started under YURE_DATA_DIR and stopped on exit.",
    )
    parser.add_argument("--host", default=None, help="address to bind (YURE_HOST)")
    parser.add_argument("--port", type=int, default=None, help="port, 0 = any (YURE_PORT)")
    parser.add_argument(
        "--workers", type=int, default=None, help="broadcaster processes (YURE_WORKERS)"
    )
    parser.add_argument(
        "--no-ingest", action="store_true", help="never poll JMA from this node (YURE_INGEST)"
    )
    parser.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    changes: dict[str, Any] = {}
    if args.host is not None:
        changes["host"] = args.host
    if args.port is not None:
        if not 0 <= args.port <= 65535:
            raise SystemExit("yure serve: --port must be 0..65535")
        changes["port"] = args.port
    if args.workers is not None:
        if args.workers < 1:
            raise SystemExit("yure serve: --workers must be >= 1")
        changes["workers"] = args.workers
    if args.no_ingest:
        changes["ingest_enabled"] = False
    from yure.web import serve

    return serve.run(dataclasses.replace(settings, **changes))
