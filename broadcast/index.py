"""The subscriber index: which groups of subscribers each entry of a batch reaches.

Core module: no I/O, no clock. Subscribers with the same filter and the same encoding
form a :class:`Group` (they receive identical bytes). Groups are indexed by prefecture,
plus one set for filters without prefs, so matching an entry touches only the groups
it can reach, not every subscriber. The members are opaque (the hub's connections;
plain strings in tests).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Generic, TypeVar

from yure.broadcast.envelope import Entry, StreamId
from yure.broadcast.filter import Filter
from yure.broadcast.frames import Encoding

M = TypeVar("M", bound=Hashable)


class Group(Generic[M]):
    """Members sharing one filter and one encoding; they receive identical bytes."""

    __slots__ = ("_snapshot", "encoding", "filter", "last_pos", "members")

    def __init__(self, flt: Filter, encoding: Encoding) -> None:
        self.filter = flt
        self.encoding = encoding
        self.members: set[M] = set()
        #: id of the newest entry delivered to this group (set by the hub)
        self.last_pos: StreamId = (0, 0)
        self._snapshot: tuple[M, ...] | None = None

    def snapshot(self) -> tuple[M, ...]:
        """The members as a tuple, rebuilt only after a change (the dispatch loop
        iterates it while writes may make members leave)."""
        if self._snapshot is None:
            self._snapshot = tuple(self.members)
        return self._snapshot

    def add(self, member: M) -> None:
        self.members.add(member)
        self._snapshot = None

    def discard(self, member: M) -> None:
        self.members.discard(member)
        self._snapshot = None


class SubscriberIndex(Generic[M]):
    """Groups by filter and encoding, indexed by prefecture."""

    __slots__ = ("_by_pref", "_everywhere", "_groups")

    def __init__(self) -> None:
        self._groups: dict[tuple[Filter, Encoding], Group[M]] = {}
        self._by_pref: dict[str, set[Group[M]]] = {}
        self._everywhere: set[Group[M]] = set()

    def __len__(self) -> int:
        """How many groups exist (a group exists while it has members)."""
        return len(self._groups)

    def join(self, member: M, flt: Filter, encoding: Encoding) -> Group[M]:
        """Add ``member`` to the group of ``(flt, encoding)`` (made on first use)."""
        group = self._groups.get((flt, encoding))
        if group is None:
            group = Group[M](flt, encoding)
            self._groups[flt, encoding] = group
            if flt.prefs is None:
                self._everywhere.add(group)
            else:
                for pref in flt.prefs:
                    self._by_pref.setdefault(pref, set()).add(group)
        group.add(member)
        return group

    def leave(self, member: M, group: Group[M]) -> None:
        """Remove ``member`` from ``group``; an empty group leaves the index."""
        group.discard(member)
        if group.members:
            return
        if self._groups.get((group.filter, group.encoding)) is group:
            del self._groups[group.filter, group.encoding]
        if group.filter.prefs is None:
            self._everywhere.discard(group)
            return
        for pref in group.filter.prefs:
            holders = self._by_pref.get(pref)
            if holders is not None:
                holders.discard(group)
                if not holders:
                    del self._by_pref[pref]

    def match(self, entries: Sequence[Entry]) -> dict[Group[M], list[int]]:
        """For each group some entry reaches, the indexes of those entries, ascending,
        each once (a group reached through two of an entry's prefs counts it once)."""
        matches: dict[Group[M], list[int]] = {}
        if not self._groups:
            return matches
        by_pref = self._by_pref
        everywhere = self._everywhere
        for index, entry in enumerate(entries):
            kind = entry.kind
            reach = [everywhere]
            reach.extend(by_pref[pref] for pref in entry.prefs if pref in by_pref)
            for groups in reach:
                for group in groups:
                    kinds = group.filter.kinds
                    if kinds is not None and kind not in kinds:
                        continue
                    indexes = matches.get(group)
                    if indexes is None:
                        matches[group] = [index]
                    elif indexes[-1] != index:
                        indexes.append(index)
        return matches
