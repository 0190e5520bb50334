"""``yure admin posts hidden`` and ``yure admin posts restore ID``: the operator's view of
posts that reports hid (driver).

``yure admin`` is a group that several packages add to (:func:`add_admin_commands` is
called by the CLI root with the group's subparsers). The commands talk to the Redis of
a deployment: ``REDIS_URL``, or the embedded redis-server of a running ``yure serve``
(its socket under ``YURE_DATA_DIR``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from yure.broadcast.timeline import Timeline
from yure.geo.locate import pref_at
from yure.redis_url import connect
from yure.safety_check.config import SafetyConfig, system_clock
from yure.safety_check.errors import SafetyCheckError
from yure.safety_check.posts import Posts
from yure.safety_check.secret import address_secret
from yure.safety_check.services import build_services
from yure.safety_check.text import MAX_POST_CHARS
from yure.safety_check.wire import iso
from yure.settings import Settings

#: Where ``yure serve``'s embedded redis-server listens (infra.embedded_redis).
EMBEDDED_SOCKET = Path("redis") / "redis.sock"
#: Redis connections the admin commands use.
ADMIN_REDIS_CONNECTIONS = 2
ADMIN_REDIS_TIMEOUT_S = 5.0


def add_admin_commands(admin: argparse._SubParsersAction[Any]) -> None:
    """Register ``posts hidden`` and ``posts restore ID`` under ``yure admin``."""
    posts = admin.add_parser("posts", help="posts hidden by reports: list, restore")
    actions = posts.add_subparsers(dest="posts_command", required=True)
    hidden = actions.add_parser("hidden", help="list hidden posts (id, time, pref, text)")
    hidden.set_defaults(handler=_hidden)
    restore = actions.add_parser("restore", help="show a hidden post again")
    restore.add_argument(
        "id",
        help="the post id, as listed by 'yure admin posts hidden' (ids may start with '-': "
        "write 'yure admin posts restore -- ID')",
    )
    restore.set_defaults(handler=_restore)


def redis_url_of(settings: Settings) -> str:
    """``REDIS_URL``, else the socket of the embedded redis-server of ``yure serve``.

    Raises:
        SystemExit: neither is there.
    """
    if settings.redis_url is not None:
        return settings.redis_url
    socket = settings.data_dir / EMBEDDED_SOCKET
    if not socket.exists():
        raise SystemExit(
            f"yure admin: no REDIS_URL and no running yure serve under {settings.data_dir} "
            f"(looked for {socket})"
        )
    return f"unix://{socket}"


async def _posts(settings: Settings) -> tuple[Posts, Any]:
    redis = connect(
        redis_url_of(settings),
        max_connections=ADMIN_REDIS_CONNECTIONS,
        timeout_s=ADMIN_REDIS_TIMEOUT_S,
    )
    services = build_services(
        redis,
        public=Timeline(redis, retention_s=settings.retention_s),
        config=SafetyConfig.from_settings(settings),
        clock=system_clock,
        locator=pref_at,
        address_secret=address_secret(settings),
    )
    return services.posts, redis


def _hidden(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> int:
        posts, redis = await _posts(settings)
        try:
            hidden = await posts.hidden()
        finally:
            await redis.aclose()
        for post in hidden:
            text = post.text.replace("\t", " ").replace("\n", " ")[:MAX_POST_CHARS]
            print(f"{post.id}\t{iso(post.created_at)}\t{post.pref or '-'}\t{text}")
        return 0

    return _run(run)


def _restore(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> int:
        posts, redis = await _posts(settings)
        try:
            restored = await posts.restore(str(args.id))
        finally:
            await redis.aclose()
        if not restored:
            print(f"yure admin: {args.id} is not a hidden post", file=sys.stderr)
            return 1
        print(f"restored {args.id}")
        return 0

    return _run(run)


def _run(main: Any) -> int:
    try:
        return int(asyncio.run(main()))
    except SafetyCheckError as err:
        print(f"yure admin: {err}", file=sys.stderr)
        return 1
