"""Subscription filters: what a client asks for, and whether an entry matches it.

Core module: no I/O. Region names ("kanto", "関東") are earthquake geography,
which broadcast does not know: the caller injects a :data:`PrefResolver` (web
passes ``geo.codes.resolve_pref_tokens``). Without one, tokens are taken as
codes as they are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from yure.broadcast.envelope import KIND_PATTERN, ZERO_ID, format_stream_id, parse_stream_id
from yure.broadcast.errors import FilterError, ProtocolError
from yure.broadcast.limits import MAX_FILTER_KINDS, MAX_FILTER_PREFS, MAX_TOKEN_CHARS

#: Turns client tokens into prefecture codes; raises :class:`FilterError` on an unknown one.
PrefResolver = Callable[[Iterable[str]], frozenset[str]]


def codes_as_given(tokens: Iterable[str]) -> frozenset[str]:
    """The default :data:`PrefResolver`: every token is already a code."""
    return frozenset(tokens)


@dataclasses.dataclass(frozen=True, slots=True)
class Filter:
    """``None`` means "everything" for that dimension."""

    prefs: frozenset[str] | None = None
    kinds: frozenset[str] | None = None

    def matches(self, kind: str, prefs: Iterable[str]) -> bool:
        """Whether an entry of ``kind`` tagged with ``prefs`` reaches this filter.

        An entry tagged with no prefecture reaches only filters without prefs.
        """
        if self.kinds is not None and kind not in self.kinds:
            return False
        if self.prefs is None:
            return True
        return not self.prefs.isdisjoint(prefs)


#: The filter of a subscription that names nothing.
EVERYTHING = Filter()


@dataclasses.dataclass(frozen=True, slots=True)
class Subscribe:
    """A parsed ``subscribe`` message (docs/protocol.md)."""

    filter: Filter
    #: canonical "<ms>-<seq>" to replay after, or None for "from now on"
    since: str | None


def parse_subscribe(data: str | bytes, resolve: PrefResolver = codes_as_given) -> Subscribe:
    """Parse one client message; only ``subscribe`` exists.

    Raises:
        ProtocolError: not a JSON object, unknown ``type``, wrong field types.
        FilterError: unknown prefecture/region, too many or too long tokens.
        CursorError: ``since`` is not a stream id.
    """
    try:
        msg: Any = orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise ProtocolError("message is not JSON") from err
    if not isinstance(msg, dict):
        raise ProtocolError("message must be a JSON object")
    if msg.get("type") != "subscribe":
        raise ProtocolError("unknown message type")
    unknown = set(msg) - {"type", "prefs", "kinds", "since"}
    if unknown:
        raise ProtocolError(f"unknown field {sorted(unknown)[0]!r}")
    prefs = _string_list(msg.get("prefs"), "prefs", MAX_FILTER_PREFS)
    kinds = _string_list(msg.get("kinds"), "kinds", MAX_FILTER_KINDS)
    since = msg.get("since")
    if since is not None and not isinstance(since, str):
        raise ProtocolError("since must be a string")
    return Subscribe(filter=build_filter(prefs, kinds, resolve), since=parse_since(since))


def parse_query(
    prefs: str | None, kinds: str | None, resolve: PrefResolver = codes_as_given
) -> Filter:
    """The filter of ``?prefs=13,kanto&kinds=quake`` (absent or empty = everything).

    Raises:
        FilterError: unknown prefecture/region, too many or too long tokens.
    """
    pref_list = _split_csv(prefs, "prefs", MAX_FILTER_PREFS)
    kind_list = _split_csv(kinds, "kinds", MAX_FILTER_KINDS)
    return build_filter(pref_list, kind_list, resolve)


def parse_since(since: str | None) -> str | None:
    """Canonical ``"<ms>-<seq>"`` of a client cursor; ``None`` and ``""`` mean "from now".

    Raises:
        CursorError: not a stream id.
    """
    if since is None or since == "":
        return None
    if since == "0":
        return ZERO_ID
    return format_stream_id(parse_stream_id(since))


def build_filter(prefs: list[str] | None, kinds: list[str] | None, resolve: PrefResolver) -> Filter:
    """A :class:`Filter` from token lists (``None`` = everything).

    Raises:
        FilterError: an unknown token or kind.
    """
    pref_set: frozenset[str] | None = None
    if prefs is not None:
        pref_set = resolve(prefs)
    kind_set: frozenset[str] | None = None
    if kinds is not None:
        for kind in kinds:
            if KIND_PATTERN.fullmatch(kind) is None:
                raise FilterError(f"bad kind {kind[:MAX_TOKEN_CHARS]!r}")
        kind_set = frozenset(kinds)
    return Filter(prefs=pref_set, kinds=kind_set)


def _string_list(value: object, name: str, max_items: int) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise ProtocolError(f"{name} must be a list of strings")
    if len(value) > max_items:
        raise FilterError(f"{name} has more than {max_items} items")
    for item in value:
        if not isinstance(item, str):
            raise ProtocolError(f"{name} must be a list of strings")
        if not item or len(item) > MAX_TOKEN_CHARS:
            raise FilterError(f"{name} item must be 1..{MAX_TOKEN_CHARS} characters")
    # An empty list means "everything", like an absent field or an empty query parameter.
    return list(value) or None


def _split_csv(value: str | None, name: str, max_items: int) -> list[str] | None:
    if value is None or value.strip() == "":
        return None
    items = [item.strip() for item in value.split(",") if item.strip()]
    if len(items) > max_items:
        raise FilterError(f"{name} has more than {max_items} items")
    for item in items:
        if len(item) > MAX_TOKEN_CHARS:
            raise FilterError(f"{name} item must be 1..{MAX_TOKEN_CHARS} characters")
    return items
