"""The timeline: a Redis Stream that is both the source of truth and the bus.

Driver module. Every entry gets a strictly increasing stream id. Appending is one
Lua script, so it is atomic and idempotent by :attr:`Envelope.key`:

1. ``HGET keys <key>``: seen before → return the old id, append nothing;
2. for a replacing envelope, ``HGET keys <replaces>`` → the old entry id (``ref``),
   its prefs are merged into the new entry's (so a 取消 reaches everyone who got
   the original) and ``"ref": "<old id>"`` is spliced into the payload;
3. ``XADD`` (id from the Redis clock), remember key → id;
4. index it by kind, prefecture and subject (:mod:`broadcast.scripts`), so narrow
   filters and subject look-ups need no scan;
5. trim by time: everything older than ``retention_s`` goes (exact ``XTRIM MINID``,
   with its index members); the newest trimmed id is kept as the *floor*, so a cursor
   below it is known to have missed entries (``cursor_expired``) and a cursor above it
   never has.

Keys, all under one hash tag so Redis Cluster keeps them in one slot
(docs/operations.md): ``{<stream>}`` (the stream), ``{<stream>}:keys`` (key → id),
``{<stream>}:keytimes`` (key → append time, to expire keys with the entries),
``{<stream>}:floor`` and the index keys ``{<stream>}:i:…``, ``{<stream>}:subjects``,
``{<stream>}:indexes``, ``{<stream>}:indexed``.
"""

from __future__ import annotations

import dataclasses
import logging
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import redis.asyncio
import redis.exceptions
from redis.asyncio.client import Pipeline

from yure.aio import bounded_call
from yure.broadcast import scripts
from yure.broadcast.envelope import (
    KIND_PATTERN,
    MAX_SUBJECT_BYTES,
    PREF_PATTERN,
    SUBJECT_FIELD,
    ZERO_ID,
    Entry,
    Envelope,
    check_envelope,
    parse_stream_id,
    split_prefs,
)
from yure.broadcast.errors import TimelineError
from yure.broadcast.filter import Filter
from yure.broadcast.limits import REDIS_TIMEOUT_S
from yure.replication import ReplicatedWriter, ReplicationError

log = logging.getLogger(__name__)

#: Stale idempotency keys dropped per append at most (the rest go with later appends).
KEY_TRIM_BATCH = 1000

#: Entries trimmed per append at most (each with its index members; the rest go with
#: later appends).
ENTRY_TRIM_BATCH = 256
#: Entries indexed per round trip by :meth:`Timeline.build_index`.
INDEX_BUILD_BATCH = 500
#: Index sets one filtered read merges at most; wider filters are answered by a scan.
MAX_INDEX_KEYS = 64


@dataclasses.dataclass(frozen=True, slots=True)
class IndexedPage:
    """Entries read through the indexes, and the stream's newest id at that instant."""

    entries: list[Entry]
    newest_id: str


class Timeline:
    """One stream of entries: append, replay, follow.

    Also used for private per-user streams (``Timeline(r, stream="yure:inbox:<uid>")``).
    """

    def __init__(
        self,
        redis: redis.asyncio.Redis,
        *,
        stream: str = "yure:timeline",
        retention_s: int,
        timeout_s: float = REDIS_TIMEOUT_S,
        writer: ReplicatedWriter | None = None,
    ) -> None:
        if retention_s <= 0:
            raise ValueError("retention_s must be positive")
        self.redis = redis
        self.name = stream
        tag = stream if "{" in stream else "{" + stream + "}"
        self.stream_key = tag
        self.keys_key = tag + ":keys"
        self.keytimes_key = tag + ":keytimes"
        self.floor_key = tag + ":floor"
        self.retention_s = retention_s
        self.timeout_s = timeout_s
        self.indexes_key = tag + ":indexes"
        self.subjects_key = tag + ":subjects"
        self.indexed_key = tag + ":indexed"
        self.index_prefix = tag + ":i:"
        (
            self._append,
            self._read_indexed,
            self._read_subject,
            self._build_index,
            self._expire,
            self._fan_out,
        ) = _scripts_of(redis)
        #: set once the stream is known to be fully indexed
        self._indexed = False
        #: When set, appends wait for the replicas (``WAIT``) before they are acknowledged.
        self._writer = writer

    async def append(self, env: Envelope) -> str:
        """Append ``env`` once; return its entry id (the first id if the key was seen).

        Raises:
            EnvelopeError: ``env`` is not appendable (see :func:`check_envelope`).
            TimelineError: Redis failed or timed out.
        """
        keys, args = self._append_call(env)
        if self._writer is not None:
            result = await self._call(self._writer.eval(scripts.APPEND_LUA, keys, args))
        else:
            result = await self._call(self._append(keys=keys, args=args))
        entry_id = _text(result[0])
        if int(result[1]) == 0:
            log.debug("append duplicate stream=%s key=%s id=%s", self.name, env.key, entry_id)
        return entry_id

    async def queue_append(self, pipe: Pipeline, env: Envelope) -> None:
        """Queue :meth:`append` of ``env`` on ``pipe`` (a pipeline of this timeline's client),
        so appends to many timelines share one round trip; its reply is
        ``[entry id, 1 if new else 0]``. Not for a timeline that waits for replicas.

        Raises:
            EnvelopeError: ``env`` is not appendable (see :func:`check_envelope`).
            ValueError: this timeline waits for replicas (use :meth:`append`).
        """
        if self._writer is not None:
            raise ValueError("a replicated timeline appends one at a time")
        keys, args = self._append_call(env)
        await self._append(keys=keys, args=args, client=pipe)

    async def fan_out(
        self,
        others: Sequence[Timeline],
        env: Envelope,
        *,
        expire_s: float,
        then: Callable[[Pipeline], object] | None = None,
    ) -> list[str]:
        """Append ``env`` to this timeline and to each of ``others`` (:meth:`append`) with
        one script, one round trip for all, then give every key of each the expiry
        :meth:`expire` would (``expire_s`` > 0). Returns the entry id in each timeline,
        this one first. All must share this one's client and retention, and none may
        wait for replicas. ``then`` queues commands that go in the same round trip,
        after the script (wake-ups: their errors are logged, not raised).

        Raises:
            EnvelopeError: ``env`` is not appendable (see :func:`check_envelope`).
            ValueError: the timelines differ in client or retention, or wait for replicas.
            TimelineError: Redis failed or timed out.
        """
        every = [self, *others]
        if any(
            t._writer is not None or t.redis is not self.redis or t.retention_s != self.retention_s
            for t in every
        ):
            raise ValueError("fan-out needs timelines of one client and retention, unreplicated")
        _, args = self._append_call(env)
        ttl_ms = _ms(expire_s) if expire_s > 0 else 0
        streams = [t.stream_key for t in every]
        script_args = [*args, ttl_ms]
        if then is None:
            ids = await self._call(self._fan_out(keys=streams, args=script_args))
        else:
            ids = await self._call(self._fan_out_then(streams, script_args, then))
        return [_text(i) for i in ids]

    async def _fan_out_then(
        self, streams: list[str], args: list[Any], then: Callable[[Pipeline], object]
    ) -> Any:
        # EVALSHA by hand: a pipeline running a Script object first asks SCRIPT EXISTS
        # (one more round trip).
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.evalsha(self._fan_out.sha, len(streams), *streams, *args)
            then(pipe)
            ids, *rest = await pipe.execute(raise_on_error=False)
        if isinstance(ids, redis.exceptions.NoScriptError):
            # Redis lost its scripts (a restart): load and run it, then the rest again.
            ids = await self._fan_out(keys=streams, args=args)
            async with self.redis.pipeline(transaction=False) as pipe:
                then(pipe)
                rest = await pipe.execute(raise_on_error=False)
        if isinstance(ids, Exception):
            raise ids
        for reply in rest:
            if isinstance(reply, Exception):
                log.warning("fan-out follow-up failed stream=%s error=%s", self.name, reply)
        return ids

    def _append_call(self, env: Envelope) -> tuple[list[str], list[str | int | bytes]]:
        checked = check_envelope(env)
        args: list[str | int | bytes] = [
            checked.key,
            checked.kind,
            checked.prefs_field,
            checked.payload,
            checked.replaces,
            self.retention_s * 1000,
            KEY_TRIM_BATCH,
            checked.subject,
            self.index_prefix,
            ENTRY_TRIM_BATCH,
        ]
        return self._fixed_keys(), args

    def _fixed_keys(self) -> list[str]:
        return [
            self.stream_key,
            self.keys_key,
            self.keytimes_key,
            self.floor_key,
            self.indexes_key,
            self.subjects_key,
            self.indexed_key,
        ]

    async def expire(self, ttl_s: float) -> None:
        """Let the whole timeline (the stream and every key kept beside it) vanish
        ``ttl_s`` after this call unless called again (private streams: an inbox dies
        with its last notification). One round trip (a script).

        Raises:
            TimelineError: Redis failed or timed out.
        """
        await self._call(self._expire(keys=self._fixed_keys(), args=[_ms(ttl_s)]))

    async def queue_expire(self, pipe: Pipeline, ttl_s: float) -> None:
        """Queue :meth:`expire` on ``pipe`` (a pipeline of this timeline's client)."""
        await self._expire(keys=self._fixed_keys(), args=[_ms(ttl_s)], client=pipe)

    async def all_keys(self) -> tuple[str, ...]:
        """Every Redis key this timeline writes (the index sets as registered now).

        Raises:
            TimelineError: Redis failed or timed out.
        """
        index_sets = await self._call(self.redis.smembers(self.indexes_key))
        return (*self._fixed_keys(), *sorted(_text(key) for key in index_sets))

    async def build_index(self) -> None:
        """Index the entries appended before the stream had indexes (an upgrade), once.

        Appends index themselves; until this finished, filtered reads scan.

        Raises:
            TimelineError: Redis failed or timed out.
        """
        if await self._call(self.redis.exists(self.indexed_key)):
            self._indexed = True
            return
        after = ZERO_ID
        keys = [self.stream_key, self.indexes_key, self.subjects_key, self.indexed_key]
        while True:
            last = _text(
                await self._call(
                    self._build_index(
                        keys=keys,
                        args=[self.index_prefix, after, INDEX_BUILD_BATCH, SUBJECT_FIELD],
                    )
                )
            )
            if not last:
                break
            after = last
        self._indexed = True
        log.info("timeline indexed stream=%s", self.name)

    async def read_matching(
        self, flt: Filter, *, limit: int, after: str | None = None, before: str | None = None
    ) -> IndexedPage | None:
        """Up to ``limit`` entries matching ``flt`` from the indexes: the oldest after
        ``after`` (oldest first), else the newest before ``before`` (None = the newest;
        newest first), with the stream's newest id at that instant. None when the indexes
        cannot answer (a filter without prefs and kinds, wider than :data:`MAX_INDEX_KEYS`
        sets, or a stream not yet indexed): the caller scans.

        Raises:
            TimelineError: Redis failed or timed out.
        """
        keys = _index_keys(self.index_prefix, flt)
        if keys is None or not await self._is_indexed():
            return None
        if not keys:  # kinds no entry can have
            return IndexedPage(entries=[], newest_id=await self.last_id())
        mode = ["after", after] if after is not None else ["newest", before or "+"]
        args: list[str | int] = [*mode, limit]
        rows, newest = await self._call(
            self._read_indexed(keys=[self.stream_key, *keys], args=args)
        )
        return IndexedPage(entries=[_entry_of_row(row) for row in rows], newest_id=_text(newest))

    async def find_by_subject(self, subject: str, *, limit: int) -> list[Entry]:
        """The newest ``limit`` retained entries whose payload's :data:`SUBJECT_FIELD`
        is ``subject``, newest first (an index look-up, never a scan; subjects longer
        than :data:`MAX_SUBJECT_BYTES` are never indexed).

        Raises:
            TimelineError: Redis failed or timed out.
        """
        if not subject or len(subject.encode()) > MAX_SUBJECT_BYTES:
            return []
        rows = await self._call(
            self._read_subject(keys=[self.stream_key, self.subjects_key], args=[subject, limit])
        )
        return [_entry_of_row(row) for row in rows]

    async def _is_indexed(self) -> bool:
        if not self._indexed:
            self._indexed = bool(await self._call(self.redis.exists(self.indexed_key)))
        return self._indexed

    async def read_after(self, since: str, *, limit: int, until: str | None = None) -> list[Entry]:
        """Up to ``limit`` entries with ids after ``since`` (and up to ``until``), oldest first.

        Raises:
            TimelineError: Redis failed or timed out.
        """
        start = "-" if since == ZERO_ID else "(" + since
        rows = await self._call(
            self.redis.xrange(self.stream_key, min=start, max=until or "+", count=limit)
        )
        return [_entry(row) for row in rows]

    def queue_read_after(self, pipe: Pipeline, since: str, *, limit: int) -> None:
        """Queue :meth:`read_after` on ``pipe`` (a pipeline of this timeline's client), so
        reads of many timelines share one round trip; :func:`entries_of` turns its reply
        into entries."""
        start = "-" if since == ZERO_ID else "(" + since
        pipe.xrange(self.stream_key, min=start, max="+", count=limit)

    async def read_before(self, before: str | None, *, limit: int) -> list[Entry]:
        """Up to ``limit`` entries before ``before`` (None = the newest), newest first.

        Raises:
            TimelineError: Redis failed or timed out.
        """
        end = "+" if before is None else "(" + before
        rows = await self._call(
            self.redis.xrevrange(self.stream_key, max=end, min="-", count=limit)
        )
        return [_entry(row) for row in rows]

    async def read_live(self, after: str, *, count: int, block_ms: int) -> list[Entry]:
        """Entries after ``after``, waiting up to ``block_ms`` for the first (XREAD BLOCK).

        Raises:
            TimelineError: Redis failed or timed out.
        """
        reply = await self._call(
            self.redis.xread({self.stream_key: after}, count=count, block=block_ms),
            extra_s=block_ms / 1000,
        )
        if not reply:
            return []
        rows = reply[0][1] if isinstance(reply, list) else next(iter(reply.values()))[0]
        return [_entry(row) for row in rows]

    async def get(self, entry_id: str) -> Entry | None:
        """The entry with ``entry_id``, or None when absent (never was, or trimmed).

        Raises:
            TimelineError: Redis failed or timed out.
        """
        rows = await self._call(self.redis.xrange(self.stream_key, entry_id, entry_id, count=1))
        return _entry(rows[0]) if rows else None

    async def id_of(self, key: str) -> str | None:
        """The entry id appended for idempotency ``key``, if still retained.

        Raises:
            TimelineError: Redis failed or timed out.
        """
        value = await self._call(self.redis.hget(self.keys_key, key))
        return None if value is None else _text(value)

    async def last_id(self) -> str:
        """The newest entry id, or ``"0-0"`` for an empty stream.

        Raises:
            TimelineError: Redis failed or timed out.
        """
        rows = await self._call(self.redis.xrevrange(self.stream_key, count=1))
        return _text(rows[0][0]) if rows else ZERO_ID

    async def floor(self) -> str:
        """The newest id ever trimmed away (``"0-0"`` if nothing was).

        Raises:
            TimelineError: Redis failed or timed out.
        """
        value = await self._call(self.redis.get(self.floor_key))
        return ZERO_ID if value is None else _text(value)

    async def is_expired(self, since: str) -> bool:
        """Whether entries after ``since`` may have been trimmed (``"0-0"`` never is).

        Raises:
            TimelineError: Redis failed or timed out.
        """
        if since == ZERO_ID:
            return False
        return parse_stream_id(since) < parse_stream_id(await self.floor())

    async def _call(self, awaitable: Awaitable[Any], *, extra_s: float = 0.0) -> Any:
        # The wire edge: redis replies are untyped; callers turn them into Entry/str.
        try:
            return await bounded_call(awaitable, self.timeout_s + extra_s)
        except TimeoutError as err:
            raise TimelineError(f"redis timed out on stream={self.name}") from err
        except (
            redis.exceptions.RedisError,
            redis.exceptions.RedisClusterException,
            ReplicationError,
        ) as err:
            raise TimelineError(f"redis failed on stream={self.name}: {err}") from err


#: The scripts registered on each client, shared by all its timelines (a per-user inbox
#: is a Timeline made per request: hashing five scripts each time cost more than the read).
_SCRIPTS: weakref.WeakKeyDictionary[Any, tuple[Any, ...]] = weakref.WeakKeyDictionary()


def _scripts_of(client: redis.asyncio.Redis) -> tuple[Any, ...]:
    found = _SCRIPTS.get(client)
    if found is None:
        found = tuple(
            client.register_script(script)
            for script in (
                scripts.APPEND_LUA,
                scripts.READ_INDEXED_LUA,
                scripts.READ_SUBJECT_LUA,
                scripts.BUILD_INDEX_LUA,
                scripts.EXPIRE_LUA,
                scripts.FAN_OUT_LUA,
            )
        )
        _SCRIPTS[client] = found
    return found


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _index_keys(prefix: str, flt: Filter) -> list[str] | None:
    """The index sets whose union is exactly the entries ``flt`` matches, or None when
    the filter is the whole stream or too wide for the indexes."""
    if flt.kinds is None and flt.prefs is None:
        return None
    kinds: Iterable[str] = ["*"] if flt.kinds is None else sorted(flt.kinds)
    prefs: Iterable[str] = ["*"] if flt.prefs is None else sorted(flt.prefs)
    keys = [
        f"{prefix}{kind}:{pref}"
        for kind in kinds
        if kind == "*" or KIND_PATTERN.fullmatch(kind)
        for pref in prefs
        if pref == "*" or PREF_PATTERN.fullmatch(pref)
    ]
    return keys if len(keys) <= MAX_INDEX_KEYS else None


def entries_of(reply: Any) -> list[Entry]:
    """The entries of an ``XRANGE`` reply (:meth:`Timeline.queue_read_after`).

    Raises:
        TimelineError: the reply is not an XRANGE reply.
    """
    try:
        return [_entry(row) for row in reply]
    except (TypeError, ValueError, AttributeError) as err:
        raise TimelineError(f"not a stream range: {err}") from err


def _entry_of_row(row: Sequence[Any]) -> Entry:
    """An :class:`Entry` from a script's ``[id, [field, value, …]]`` row."""
    entry_id, flat = row
    return _entry([entry_id, dict(zip(flat[::2], flat[1::2], strict=True))])


def _entry(row: Sequence[Any]) -> Entry:
    """An :class:`Entry` from one ``[id, {field: value}]`` reply (the wire edge)."""
    entry_id, fields = row
    payload = fields.get(b"d", fields.get("d", b"{}"))
    return Entry(
        id=_text(entry_id),
        key=_text(fields.get(b"k", fields.get("k", b""))),
        kind=_text(fields.get(b"t", fields.get("t", b""))),
        prefs=split_prefs(_text(fields.get(b"p", fields.get("p", b"")))),
        payload=payload.encode() if isinstance(payload, str) else payload,
    )
