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
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum

import orjson

from yure.ingest.errors import IngestError
from yure.ingest.event import Event
from yure.ingest.merge import Rank, is_partial, rank_of

#: Largest encoded stream state accepted from storage, in bytes.
MAX_STATE_BYTES = 4096


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
    """The verdict, the publication (for NEW and REPLACES) and the state after it."""

    verdict: Verdict
    publication: Publication | None
    state: StreamState | None

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


def decide(state: StreamState | None, event: Event, key: str) -> Decision:
    """Decide what to do with ``event`` (identified by ``key``) given its stream's state.

    Args:
        state: the newest item of the stream, None when the stream is unknown.
        event: the item; its rank comes from :func:`ingest.merge.rank_of`.
        key: its publication key (:func:`ingest.merge.item_key`).
    """
    if not event.public:
        return Decision(Verdict.NOT_PUBLIC, None, state)
    rank = rank_of(event)
    if state is None:
        return Decision(Verdict.NEW, Publication(key, None, event), StreamState(key, rank))
    if key == state.key:
        return Decision(Verdict.DUPLICATE, None, state)
    if rank < state.rank:
        return Decision(Verdict.STALE, None, state)
    if rank == state.rank and is_partial(key) and not is_partial(state.key):
        return Decision(Verdict.DUPLICATE, None, state)
    return Decision(Verdict.REPLACES, Publication(key, state.key, event), StreamState(key, rank))


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
