"""The ledger: is this item new, newer, a duplicate, or stale? Core module: state in,
decision out; the drivers keep the state (in Redis, :mod:`ingest.seen`).

JMA numbers the telegrams of one event (Head/EventID) with Head/Serial; a 訂正
(correction) or 取消 (cancellation) is a new telegram with a higher serial that
replaces what went before (気象庁防災情報XMLフォーマット 技術資料 「情報の訂正・取消」).
Telegrams can reach us out of order (the short and the long feed overlap; P2P地震情報 is
faster than the feed; a restart replays the feed), so for each *stream*
(:func:`ingest.merge.stream_of`) the ledger remembers the newest item's rank and key:

* nothing known yet → publish;
* same key as the newest → duplicate, nothing to publish;
* lower rank than the newest → stale: a late, older telegram never overwrites a newer
  one; dropped and counted;
* same or higher rank, other key → publish, replacing the newest (a later serial
  supersedes, a 訂正 replaces, a 取消 retracts) — except that a partial P2P copy of the
  same rank never replaces a complete item (it is counted as a duplicate).

Non-public telegrams (訓練, 試験) are never published and leave the state alone.
Keys are deterministic, so deciding again after a crash gives the same publication.

Ranks use the *received* time as a ceiling (issue 10, item 10): an item's time in its
rank is ``min(ReportDateTime, received_at)``. JMA's ReportDateTime always precedes the
telegram (every reference telegram's is at or before its Control/DateTime), so a real
item keeps its ReportDateTime; one dated in the future (a mistake, a test leaking out, a
forged relay) ranks as if reported when it reached us, and every item reported after
that moment still ranks above it: a later warning is always published. A stored state
whose time is more than :data:`MAX_FUTURE_SKEW_S` ahead of the item being decided (kept
by an older yure, or the clock went back) does not order anything: the item replaces it.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import StrEnum

import orjson

from yure.ingest.errors import IngestError
from yure.ingest.event import Event
from yure.ingest.merge import Rank, is_partial, rank_of

#: Largest encoded stream state accepted from storage, in bytes.
MAX_STATE_BYTES = 4096
#: How far ahead of its receipt an item's ReportDateTime may be before it is logged as
#: future-dated, and how far ahead of an item a stored state may be before it stops
#: ordering the stream (clock adjustments between two decisions), in seconds.
MAX_FUTURE_SKEW_S = 60


@dataclasses.dataclass(frozen=True, slots=True)
class Publication:
    """What goes to the timeline: ``key`` is the idempotency key of this item,
    ``replaces`` the key of the item it supersedes, corrects or cancels."""

    key: str
    replaces: str | None
    event: Event


class Verdict(StrEnum):
    """What the ledger made of an item."""

    NEW = "new"
    REPLACES = "replaces"
    DUPLICATE = "duplicate"
    STALE = "stale"
    NOT_PUBLIC = "not_public"


@dataclasses.dataclass(frozen=True, slots=True)
class StreamState:
    """The newest item of a stream."""

    key: str
    rank: Rank


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    """The verdict, the publication (for NEW and REPLACES) and the state after it;
    ``future_dated``: the item's ReportDateTime was more than :data:`MAX_FUTURE_SKEW_S`
    ahead of its receipt (it was ranked at its receipt)."""

    verdict: Verdict
    publication: Publication | None
    state: StreamState | None
    future_dated: bool = False

    @property
    def changed(self) -> bool:
        """Whether the stream state must be stored."""
        return self.publication is not None


@dataclasses.dataclass
class VerdictCounters:
    """Monotonic counts of the ledger's verdicts, kept by each driver for metrics."""

    published: int = 0
    duplicates: int = 0
    dropped_training: int = 0
    dropped_stale: int = 0

    def count(self, verdict: Verdict) -> None:
        """Count one ``verdict`` (NEW and REPLACES are both published)."""
        if verdict in (Verdict.NEW, Verdict.REPLACES):
            self.published += 1
        elif verdict is Verdict.NOT_PUBLIC:
            self.dropped_training += 1
        elif verdict is Verdict.STALE:
            self.dropped_stale += 1
        else:
            self.duplicates += 1


def effective_rank(event: Event, received_at: datetime) -> Rank:
    """:func:`ingest.merge.rank_of` with the time capped at ``received_at`` (module
    docstring)."""
    serial, reported_s = rank_of(event)
    return (serial, min(reported_s, int(received_at.timestamp())))


def decide(state: StreamState | None, event: Event, key: str, *, received_at: datetime) -> Decision:
    """Decide what to do with ``event`` (identified by ``key``) given its stream's state.

    Args:
        state: the newest item of the stream, None when the stream is unknown.
        event: the item; its rank comes from :func:`effective_rank`.
        key: its publication key (:func:`ingest.merge.item_key`).
        received_at: when yure received the item (its provenance), the rank's ceiling.
    """
    if not event.public:
        return Decision(Verdict.NOT_PUBLIC, None, state)
    received_s = int(received_at.timestamp())
    future = int(event.reported_at.timestamp()) - received_s > MAX_FUTURE_SKEW_S
    rank = effective_rank(event, received_at)
    new_state = StreamState(key, rank)
    if state is None:
        return Decision(Verdict.NEW, Publication(key, None, event), new_state, future)
    if key == state.key:
        return Decision(Verdict.DUPLICATE, None, state, future)
    if state.rank[1] - received_s <= MAX_FUTURE_SKEW_S:
        if rank < state.rank:
            return Decision(Verdict.STALE, None, state, future)
        if rank == state.rank and is_partial(key) and not is_partial(state.key):
            return Decision(Verdict.DUPLICATE, None, state, future)
    return Decision(Verdict.REPLACES, Publication(key, state.key, event), new_state, future)


def encode_state(state: StreamState) -> bytes:
    """The stored form of ``state`` (a small JSON object)."""
    return orjson.dumps({"key": state.key, "rank": list(state.rank)})


def decode_state(data: bytes) -> StreamState:
    """Read what :func:`encode_state` wrote.

    Raises:
        IngestError: not a stored stream state.
    """
    if len(data) > MAX_STATE_BYTES:
        raise IngestError(f"stream state is {len(data)} bytes, over {MAX_STATE_BYTES}")
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise IngestError(f"stream state is not JSON: {err}") from err
    if not isinstance(raw, dict):
        raise IngestError("stream state is not an object")
    key, rank = raw.get("key"), raw.get("rank")
    if (
        not isinstance(key, str)
        or not isinstance(rank, list)
        or len(rank) != 2
        or not all(isinstance(part, int) and not isinstance(part, bool) for part in rank)
    ):
        raise IngestError("stream state lacks key or rank")
    return StreamState(key=key, rank=(rank[0], rank[1]))
