"""Subscriptions in Redis. Driver module.

Keys, all under the hash tag ``{yure:push}`` (one Redis Cluster slot, so the scripts
may touch them together):

* ``{yure:push}:subs`` — hash: id → record (:func:`~yure.push.subscription.record_to_json`);
* ``{yure:push}:pref:<code>`` / ``{yure:push}:pref:all`` — set of ids per chosen
  prefecture (``all``: subscriptions without prefectures), so an alert reads only the
  subscriptions it may concern;
* ``{yure:push}:addr:<address>`` — set of ids per client address (the cap);
* ``{yure:push}:endpoints`` — hash: endpoint hash → id (one subscription per
  endpoint: subscribing again replaces the old one).

Each change is one Lua script, so the indexes never disagree with the records.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Iterable
from typing import Any

import redis.asyncio
import redis.exceptions
from redis.asyncio.client import Pipeline

from yure.aio import bounded_call
from yure.push.errors import StoreError, SubscriptionError, TooManySubscriptions
from yure.push.prefs import PushFilter
from yure.push.subscription import (
    Subscription,
    endpoint_hash,
    record_from_json,
    record_to_json,
)

log = logging.getLogger(__name__)

PREFIX = "{yure:push}"
SUBS_KEY = PREFIX + ":subs"
ENDPOINTS_KEY = PREFIX + ":endpoints"
#: Redis round trip of one store operation at most.
REDIS_TIMEOUT_S = 5.0

# remove(id): drop a subscription and every index entry pointing at it.
_REMOVE_FN = """
local function remove(prefix, id)
  local rec = redis.call('HGET', prefix .. ':subs', id)
  if not rec then return 0 end
  local d = cjson.decode(rec)
  for _, p in ipairs(d['index']) do redis.call('SREM', prefix .. ':pref:' .. p, id) end
  redis.call('SREM', prefix .. ':addr:' .. d['address'], id)
  if redis.call('HGET', prefix .. ':endpoints', d['eh']) == id then
    redis.call('HDEL', prefix .. ':endpoints', d['eh'])
  end
  redis.call('HDEL', prefix .. ':subs', id)
  return 1
end
local function index(prefix, id, rec)
  local d = cjson.decode(rec)
  for _, p in ipairs(d['index']) do redis.call('SADD', prefix .. ':pref:' .. p, id) end
end
"""

# KEYS: subs, endpoints, addr set. ARGV: prefix, id, record, endpoint hash, per-addr cap,
# total cap. Returns the replaced id ('' if none), -1 over the address cap, -2 over the
# total cap.
_CREATE_LUA = (
    _REMOVE_FN
    + """
local old = redis.call('HGET', KEYS[2], ARGV[4])
if old then remove(ARGV[1], old) end
if redis.call('SCARD', KEYS[3]) >= tonumber(ARGV[5]) then return -1 end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[6]) then return -2 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[4], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[2])
index(ARGV[1], ARGV[2], ARGV[3])
return old or ''
"""
)

# KEYS: subs. ARGV: prefix, id, new record. Returns 0 when the id is unknown.
_REPLACE_LUA = (
    _REMOVE_FN
    + """
local rec = redis.call('HGET', KEYS[1], ARGV[2])
if not rec then return 0 end
local d = cjson.decode(rec)
for _, p in ipairs(d['index']) do redis.call('SREM', ARGV[1] .. ':pref:' .. p, ARGV[2]) end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
index(ARGV[1], ARGV[2], ARGV[3])
return 1
"""
)

# KEYS: subs. ARGV: prefix, id...  Returns how many were removed.
_DELETE_LUA = (
    _REMOVE_FN
    + """
local n = 0
for i = 2, #ARGV do n = n + remove(ARGV[1], ARGV[i]) end
return n
"""
)


def pref_key(code: str) -> str:
    """The index set of one prefecture code (or ``"all"``)."""
    return f"{PREFIX}:pref:{code}"


def addr_key(address: str) -> str:
    """The set of subscriptions made from one client address."""
    return f"{PREFIX}:addr:{address}"


class SubscriptionStore:
    """Create, read, change and delete subscriptions; find the ones an alert concerns."""

    def __init__(self, redis: redis.asyncio.Redis, *, max_per_address: int, max_total: int) -> None:
        self.redis = redis
        self.max_per_address = max_per_address
        self.max_total = max_total
        self._create = redis.register_script(_CREATE_LUA)
        self._replace = redis.register_script(_REPLACE_LUA)
        self._delete = redis.register_script(_DELETE_LUA)

    async def create(self, sub: Subscription) -> str | None:
        """Store ``sub``; return the id of the subscription it replaced (same endpoint).

        Raises:
            TooManySubscriptions: the address holds ``max_per_address`` already, or the
                deployment holds ``max_total``.
            StoreError: Redis failed.
        """
        result = await self._call(
            self._create(keys=self._create_keys(sub), args=self._create_args(sub))
        )
        if result == -1:
            raise TooManySubscriptions(f"at most {self.max_per_address} subscriptions per address")
        if result == -2:
            raise TooManySubscriptions("this server holds as many subscriptions as it can")
        replaced = _text(result)
        return replaced or None

    async def queue_create(self, pipe: Pipeline, sub: Subscription) -> None:
        """Queue :meth:`create` on ``pipe`` (bulk loads; the caller executes the pipeline
        and checks nothing: caps are still enforced by the script)."""
        await self._create(keys=self._create_keys(sub), args=self._create_args(sub), client=pipe)

    def _create_keys(self, sub: Subscription) -> list[str]:
        return [SUBS_KEY, ENDPOINTS_KEY, addr_key(sub.address)]

    def _create_args(self, sub: Subscription) -> list[str | int | bytes]:
        return [
            PREFIX,
            sub.id,
            record_to_json(sub),
            endpoint_hash(sub.endpoint),
            self.max_per_address,
            self.max_total,
        ]

    async def get(self, sub_id: str) -> Subscription | None:
        """The subscription ``sub_id``, or None.

        Raises:
            StoreError: Redis failed.
        """
        data = await self._call(self.redis.hget(SUBS_KEY, sub_id))
        if data is None:
            return None
        return record_from_json(sub_id, data)

    async def replace_filter(self, sub: Subscription, flt: PushFilter) -> bool:
        """Give ``sub`` a new filter; False when it no longer exists.

        Raises:
            StoreError: Redis failed.
        """
        changed = Subscription(
            sub.id,
            sub.endpoint,
            sub.p256dh,
            sub.auth,
            flt,
            sub.token_hash,
            sub.address,
            sub.created_at,
        )
        result = await self._call(
            self._replace(keys=[SUBS_KEY], args=[PREFIX, sub.id, record_to_json(changed)])
        )
        return bool(result)

    async def delete(self, *sub_ids: str) -> int:
        """Delete subscriptions; return how many existed.

        Raises:
            StoreError: Redis failed.
        """
        if not sub_ids:
            return 0
        return int(await self._call(self._delete(keys=[SUBS_KEY], args=[PREFIX, *sub_ids])))

    async def candidates(self, prefs: Iterable[str]) -> list[str]:
        """Ids of every subscription that chose one of ``prefs`` or all of Japan.

        Raises:
            StoreError: Redis failed.
        """
        keys = [pref_key(p) for p in sorted(set(prefs))] + [pref_key("all")]
        members = await self._call(self.redis.sunion(keys))
        return sorted(_text(m) for m in members)

    async def load(self, sub_ids: list[str]) -> list[Subscription]:
        """The subscriptions among ``sub_ids`` that still exist (unreadable ones are
        logged and skipped).

        Raises:
            StoreError: Redis failed.
        """
        if not sub_ids:
            return []
        rows = await self._call(self.redis.hmget(SUBS_KEY, sub_ids))
        found: list[Subscription] = []
        for sub_id, data in zip(sub_ids, rows, strict=True):
            if data is None:
                continue
            try:
                found.append(record_from_json(sub_id, data))
            except SubscriptionError as err:
                log.warning("push subscription unreadable id=%s error=%s", sub_id, err)
        return found

    async def count(self) -> int:
        """How many subscriptions exist.

        Raises:
            StoreError: Redis failed.
        """
        return int(await self._call(self.redis.hlen(SUBS_KEY)))

    async def _call(self, awaitable: Awaitable[Any]) -> Any:
        try:
            return await bounded_call(awaitable, REDIS_TIMEOUT_S)
        except TimeoutError as err:
            raise StoreError("redis timed out") from err
        except redis.exceptions.RedisError as err:
            raise StoreError(f"redis failed: {err}") from err


def _text(value: bytes | str | int) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return str(value)
