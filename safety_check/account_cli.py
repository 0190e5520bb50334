"""``yure admin accounts delete HANDLE`` and ``yure admin sessions revoke HANDLE``
(:mod:`safety_check.erase`), added to the shared ``yure admin`` group."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from yure.redis_url import connect
from yure.safety_check.cli import ADMIN_REDIS_CONNECTIONS, ADMIN_REDIS_TIMEOUT_S, redis_url_of
from yure.safety_check.erase import erase_account, revoke_sessions
from yure.safety_check.errors import SafetyCheckError
from yure.safety_check.text import normalize_handle
from yure.settings import Settings


def add_admin_commands(admin: argparse._SubParsersAction[Any]) -> None:
    """Register ``accounts delete`` and ``sessions revoke`` under ``yure admin``."""
    accounts = admin.add_parser("accounts", help="delete an account and all its data")
    actions = accounts.add_subparsers(dest="accounts_command", required=True)
    delete = actions.add_parser(
        "delete",
        help="erase an account: sessions, friendships, check-ins, inbox, post authorship",
    )
    delete.add_argument("handle")
    delete.add_argument("--yes", action="store_true", help="do it (without: only say what)")
    delete.set_defaults(handler=_delete)
    sessions = admin.add_parser("sessions", help="end an account's sessions")
    actions = sessions.add_subparsers(dest="sessions_command", required=True)
    revoke = actions.add_parser("revoke", help="every token of the account stops working")
    revoke.add_argument("handle")
    revoke.set_defaults(handler=_revoke)


def _delete(args: argparse.Namespace, settings: Settings) -> int:
    if not args.yes:
        print(
            f"yure admin: this erases {args.handle!r} and all its data for good; "
            "run again with --yes",
            file=sys.stderr,
        )
        return 2

    async def run(redis: Any) -> str:
        erased = await erase_account(redis, normalize_handle(args.handle))
        return (
            f"deleted {args.handle}: sessions={erased.sessions} friends={erased.friends} "
            f"checkins={erased.checkins} posts={erased.posts} keys={erased.keys}"
        )

    return _run(settings, run)


def _revoke(args: argparse.Namespace, settings: Settings) -> int:
    async def run(redis: Any) -> str:
        count = await revoke_sessions(redis, normalize_handle(args.handle))
        return f"revoked {count} sessions of {args.handle}"

    return _run(settings, run)


def _run(settings: Settings, action: Any) -> int:
    async def main() -> str:
        redis = connect(
            redis_url_of(settings),
            max_connections=ADMIN_REDIS_CONNECTIONS,
            timeout_s=ADMIN_REDIS_TIMEOUT_S,
        )
        try:
            return str(await action(redis))
        finally:
            await redis.aclose()

    try:
        print(asyncio.run(main()))
    except SafetyCheckError as err:
        print(f"yure admin: {err}", file=sys.stderr)
        return 1
    return 0
