"""The ``yure`` command line (``yure.commands``): ``yure parse``, ``yure geo``, ``yure serve``,
``yure archive import``.

This is the CLI root: like ``web``, it may import every package (the ``yure`` kernel
below it imports none). The ``yure`` console script and ``python -m yure`` both run
:func:`main`.

Each package that offers a subcommand has a ``cli`` module with
``add_parser(subparsers)``; the parser it adds sets ``handler`` to a function
``(args, settings) -> exit status``. A new subcommand: import the package's ``cli`` in
:func:`build_parser` and call its ``add_parser``. ``yure admin`` is one group that
several packages add to: a package's ``cli.add_admin_commands(admin_subparsers)``
registers its commands there. This module is the only place that
reads ``os.environ`` (once, into :class:`yure.settings.Settings`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import cast

from yure import __version__
from yure.errors import ConfigError
from yure.logs import configure_logging
from yure.settings import Settings, environment_help

Handler = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every package's subcommand registered."""
    # Imported here, not at the top: ``yure parse`` need not load the web server.
    from yure.archive import cli as archive_cli
    from yure.geo import cli as geo_cli
    from yure.ingest import cli as ingest_cli
    from yure.safety_check import cli as safety_cli
    from yure.web import cli as web_cli

    parser = argparse.ArgumentParser(
        prog="yure", description="揺れ — real-time earthquake and tsunami information feed"
    )
    parser.add_argument("--version", action="version", version=f"yure {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    ingest_cli.add_parser(subparsers)
    geo_cli.add_parser(subparsers)
    web_cli.add_parser(subparsers)
    archive_cli.add_parser(subparsers)
    from yure.commands import backup as backup_cli

    backup_cli.add_parsers(subparsers)
    admin = subparsers.add_parser("admin", help="operator tasks on a deployment's data")
    admin_commands = admin.add_subparsers(dest="admin_command", required=True)
    # ``yure admin`` is shared: each package adds its commands to the one group.
    safety_cli.add_admin_commands(admin_commands)
    from yure.safety_check import account_cli

    account_cli.add_admin_commands(admin_commands)
    _name_the_environment(parser)
    return parser


def _name_the_environment(parser: argparse.ArgumentParser) -> None:
    """Every ``--help`` (the root's, each subcommand's, nested ones too) ends with the
    environment variables yure reads and their defaults: every command builds the one
    :class:`Settings` from them at start."""
    epilog = environment_help()
    pending = [parser]
    while pending:
        current = pending.pop()
        current.epilog = epilog
        current.formatter_class = argparse.RawDescriptionHelpFormatter
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                pending.extend(action.choices.values())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``yure`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
    except ConfigError as err:
        print(f"yure: configuration error: {err}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    handler = cast(Handler, args.handler)
    return handler(args, settings)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
