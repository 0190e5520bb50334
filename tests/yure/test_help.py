"""Every ``--help`` names the environment variables yure reads, with their defaults."""

from __future__ import annotations

import argparse

from yure.commands import build_parser
from yure.settings import Settings


def _parsers(root: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found = {root.prog: root}
    pending = [root]
    while pending:
        current = pending.pop()
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                for parser in action.choices.values():
                    found[parser.prog] = parser
                    pending.append(parser)
    return found


def test_every_help_lists_every_variable_with_its_default() -> None:
    seen: dict[str, object] = {}
    Settings.from_env({}, defaults_seen=seen)
    assert {"YURE_PORT", "YURE_DATA_DIR", "REDIS_URL", "YURE_TRUSTED_PROXIES"} <= set(seen)
    parsers = _parsers(build_parser())
    assert {"yure", "yure serve", "yure parse", "yure geo"} <= set(parsers)
    for prog, parser in parsers.items():
        text = parser.format_help()
        missing = [name for name in seen if name not in text]
        assert missing == [], f"{prog} --help does not name {missing}"
    serve = parsers["yure serve"].format_help()
    assert "YURE_PORT" in serve and "[8080]" in serve
    assert f"[{Settings().data_dir}]" in serve
    assert "REDIS_URL unset: yure serve runs its own redis-server" in serve
