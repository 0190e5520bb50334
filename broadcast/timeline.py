"""The timeline: a Redis Stream that is both the source of truth and the bus.

Driver module. Every entry gets a strictly increasing stream id. Appending is one
Lua script, so it is atomic and idempotent by :attr:`Envelope.key`:

1. ``HGET keys <key>``: seen before → return the old id, append nothing;
2. for a replacing envelope, ``HGET keys <replaces>`` → the old entry id (``ref``),
   its prefs are merged into the new entry's (so a 取消 reaches everyone who got
   the original) and ``"ref": "<old id>"`` is spliced into the payload;
3. ``XADD`` (id from the Redis clock), remember key → id;
4. trim by time: everything older than ``retention_s`` goes (exact ``XTRIM MINID``);
   the newest trimmed id is kept as the *floor*, so a cursor below it is known to
   have missed entries (``cursor_expired``) and a cursor above it never has.

Keys, all under one hash tag so Redis Cluster keeps them in one slot
(docs/operations.md): ``{<stream>}`` (the stream), ``{<stream>}:keys`` (key → id),
``{<stream>}:keytimes`` (key → append time, to expire keys with the entries) and
``{<stream>}:floor``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from typing import Any

import redis.asyncio
import redis.exceptions

from yure.aio import bounded_call
from yure.broadcast.envelope import (
    ZERO_ID,
    Entry,
    Envelope,
    check_envelope,
    parse_stream_id,
    split_prefs,
)
from yure.broadcast.errors import TimelineError
from yure.broadcast.limits import REDIS_TIMEOUT_S
from yure.replication import ReplicatedWriter, ReplicationError

log = logging.getLogger(__name__)

#: Stale idempotency keys dropped per append at most (the rest go with later appends).
KEY_TRIM_BATCH = 1000

_APPEND_LUA = """
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing then return {existing, 0} end
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local prefs = ARGV[3]
local payload = ARGV[4]
if ARGV[5] ~= '' then
  local ref = redis.call('HGET', KEYS[2], ARGV[5])
  if ref then
    local old = redis.call('XRANGE', KEYS[1], ref, ref)
    if #old > 0 then
      local fields = old[1][2]
      for i = 1, #fields, 2 do
        if fields[i] == 'p' and fields[i + 1] ~= '' then
          local seen, out = {}, {}
          for code in string.gmatch(prefs .. ',' .. fields[i + 1], '[^,]+') do
            if not seen[code] then seen[code] = true; out[#out + 1] = code end
          end
          table.sort(out)
          prefs = table.concat(out, ',')
        end
      end
    end
    if payload == '{}' then
      payload = '{"ref":"' .. ref .. '"}'
    else
      payload = '{"ref":"' .. ref .. '",' .. string.sub(payload, 2)
    end
  end
end
local id = redis.call('XADD', KEYS[1], '*', 'k', ARGV[1], 't', ARGV[2], 'p', prefs, 'd', payload)
redis.call('HSET', KEYS[2], ARGV[1], id)
redis.call('ZADD', KEYS[3], now_ms, ARGV[1])
local min_ms = string.format('%.0f', now_ms - tonumber(ARGV[6]))
local newest_old = redis.call('XREVRANGE', KEYS[1], '(' .. min_ms .. '-0', '-', 'COUNT', 1)
if #newest_old > 0 then
  redis.call('SET', KEYS[4], newest_old[1][1])
  redis.call('XTRIM', KEYS[1], 'MINID', min_ms .. '-0')
end
local stale = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. min_ms, 'LIMIT', 0, ARGV[7])
if #stale > 0 then
  redis.call('HDEL', KEYS[2], unpack(stale))
  redis.call('ZREM', KEYS[3], unpack(stale))
end
return {id, 1}
"""


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
        self._append = redis.register_script(_APPEND_LUA)
        #: When set, appends wait for the replicas (``WAIT``) before they are acknowledged.
        self._writer = writer

    async def append(self, env: Envelope) -> str:
        """Append ``env`` once; return its entry id (the first id if the key was seen).

        Raises:
            EnvelopeError: ``env`` is not appendable (see :func:`check_envelope`).
            TimelineError: Redis failed or timed out.
        """
        checked = check_envelope(env)
        keys = [self.stream_key, self.keys_key, self.keytimes_key, self.floor_key]
        args: list[str | int | bytes] = [
            checked.key,
            checked.kind,
            checked.prefs_field,
            checked.payload,
            checked.replaces,
            self.retention_s * 1000,
            KEY_TRIM_BATCH,
        ]
        if self._writer is not None:
            result = await self._call(self._writer.eval(_APPEND_LUA, keys, args))
        else:
            result = await self._call(self._append(keys=keys, args=args))
        entry_id = _text(result[0])
        if int(result[1]) == 0:
            log.debug("append duplicate stream=%s key=%s id=%s", self.name, env.key, entry_id)
        return entry_id

    async def expire(self, ttl_s: float) -> None:
        """Let the whole timeline (the stream and every key kept beside it) vanish
        ``ttl_s`` after this call unless called again (private streams: an inbox dies
        with its last notification).

        Raises:
            TimelineError: Redis failed or timed out.
        """
        ttl_ms = max(1, round(ttl_s * 1000))
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in self.all_keys:
                pipe.pexpire(key, ttl_ms)
            await self._call(pipe.execute())

    @property
    def all_keys(self) -> tuple[str, ...]:
        """Every Redis key this timeline writes."""
        return (self.stream_key, self.keys_key, self.keytimes_key, self.floor_key)

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


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


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
