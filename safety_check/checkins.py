""" "I'm safe" check-ins: durable, idempotent, expiring, friends-only (driver).

A check-in is one Redis hash that expires (PEXPIRE) at its deletion time: after that it is
gone, not hidden. Creating it is one MULTI together with the owner's index and, when the
client sent an ``Idempotency-Key``, the key → check-in record, so a retry after a crash
either finds the record (and the check-in) or neither. With Redis' ``appendfsync always``
an acknowledged EXEC is on disk before the reply (redis.io, "Redis persistence", AOF).

Friends learn about it through their inbox streams (:mod:`.inbox`); the notification is
re-sent on an idempotent retry, which the stream's own idempotency key makes harmless.
"""

from __future__ import annotations

import hashlib
import logging

import orjson
from redis.asyncio.client import Pipeline
from redis.typing import EncodableT, FieldT

from yure.broadcast.envelope import Envelope
from yure.safety_check import keys, store
from yure.safety_check.config import Clock, SafetyConfig
from yure.safety_check.errors import IdempotencyKeyReused, NotFound, StoreError
from yure.safety_check.events import CurrentEvents
from yure.safety_check.friends import Friends
from yure.safety_check.inbox import Inboxes, checkin_deleted_notice, checkin_notice
from yure.safety_check.model import CheckIn, CheckinDraft, CheckinStatus
from yure.safety_check.policy import checkin_expiry
from yure.safety_check.tokens import is_id, new_id

log = logging.getLogger(__name__)

#: Newest ids read per friend before looking further (most latest check-ins are alive).
LATEST_PROBE = 5
#: What a new check-in's transaction reads (under WATCH), in one round trip instead of
#: one per command: the Idempotency-Key record (KEYS[3], when given), the owner's index
#: (KEYS[1]) and its remaining time to live, and the owner's friends (KEYS[2]: whom to
#: notify). Read-only.
CREATE_READS_LUA = """
local record = false
if #KEYS > 2 then record = redis.call('GET', KEYS[3]) end
return {record, redis.call('ZRANGE', KEYS[1], 0, -1), redis.call('PTTL', KEYS[1]),
        redis.call('SMEMBERS', KEYS[2])}
"""


def fingerprint(draft: CheckinDraft) -> str:
    """A digest of what was asked, to tell a retry from a different request that reuses
    the same Idempotency-Key (draft-ietf-httpapi-idempotency-key-header §2.6)."""
    body = orjson.dumps(
        [draft.status.value, draft.note, draft.pref, draft.event_id, draft.lat, draft.lon]
    )
    return hashlib.sha256(body).hexdigest()


def idempotency_key_hash(raw: str) -> str:
    """How an Idempotency-Key is stored (hashed: it is client-chosen text)."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _parse(cid: str, fields: dict[str, str]) -> CheckIn | None:
    if "owner" not in fields:
        return None
    lat, lon = fields.get("lat", ""), fields.get("lon", "")
    return CheckIn(
        id=cid,
        owner=fields["owner"],
        status=CheckinStatus(fields["status"]),
        note=fields.get("note", ""),
        pref=fields.get("pref") or None,
        event_id=fields.get("event_id") or None,
        created_at=float(fields["created_at"]),
        expires_at=float(fields["expires_at"]),
        lat=float(lat) if lat else None,
        lon=float(lon) if lon else None,
    )


class Checkins:
    """Create, read and delete check-ins."""

    def __init__(
        self,
        redis: store.Redis,
        *,
        friends: Friends,
        inboxes: Inboxes,
        events: CurrentEvents,
        config: SafetyConfig,
        clock: Clock,
    ) -> None:
        self._redis = redis
        self._friends = friends
        self._inboxes = inboxes
        self._events = events
        self._config = config
        self._clock = clock

    async def create(
        self, owner: str, draft: CheckinDraft, *, idempotency_key: str | None
    ) -> tuple[CheckIn, bool]:
        """Store a check-in (or find the one an earlier try with the same key stored) and
        notify the owner's friends. Returns ``(check-in, replayed)``.

        Raises:
            IdempotencyKeyReused: the key was used for a different request.
            NotFound: the earlier check-in of this key was deleted meanwhile.
            StoreError: Redis failed.
        """
        cfg = self._config
        now = self._clock()
        if draft.event_id is not None:
            event = await self._events.lookup(draft.event_id)
        else:
            event = await self._events.current(now)
        expires_at = checkin_expiry(
            now=now,
            event_at=None if event is None else event.occurred_at,
            ttl_s=cfg.checkin_ttl_s,
        )
        checkin = CheckIn(
            id=new_id(),
            owner=owner,
            status=draft.status,
            note=draft.note,
            pref=draft.pref,
            event_id=draft.event_id or (None if event is None else event.event_id),
            created_at=now,
            expires_at=expires_at,
            lat=draft.lat,
            lon=draft.lon,
        )
        ttl_ms = store.ms(expires_at - now)
        idem = (
            None
            if idempotency_key is None
            else keys.idempotency(owner, idempotency_key_hash(idempotency_key))
        )
        digest = fingerprint(draft)
        index = keys.user_checkins(owner)

        watch = [index] if idem is None else [index, idem]
        reads = [index, keys.friends(owner), *watch[1:]]
        friends: list[frozenset[str]] = []

        async def body(pipe: Pipeline) -> str | None:
            raw, raw_members, raw_ttl, raw_friends = await pipe.eval(
                CREATE_READS_LUA, len(reads), *reads
            )
            friends[:] = [frozenset(store.text(m) for m in raw_friends)]
            if raw is not None:
                record = orjson.loads(raw)
                if record.get("fp") != digest:
                    raise IdempotencyKeyReused("Idempotency-Key reused with another body")
                return str(record["id"])
            members = [store.text(m) for m in raw_members]
            overflow = members[: max(0, len(members) + 1 - cfg.max_checkins_per_user)]
            overflow_idem = [
                store.opt_text(await pipe.hget(keys.checkin(cid), "idem")) for cid in overflow
            ]
            index_ttl = int(raw_ttl)
            store.begin(pipe)
            pipe.hset(keys.checkin(checkin.id), mapping=_fields(checkin, idem))
            pipe.pexpire(keys.checkin(checkin.id), ttl_ms)
            pipe.zadd(index, {checkin.id: now})
            for cid, old_idem in zip(overflow, overflow_idem, strict=True):
                pipe.zrem(index, cid)
                pipe.delete(keys.checkin(cid))
                if old_idem:
                    pipe.delete(old_idem)
            pipe.pexpire(index, max(ttl_ms, index_ttl))
            if idem is not None:
                pipe.set(idem, orjson.dumps({"fp": digest, "id": checkin.id}), px=ttl_ms)
            return None

        earlier = await store.transaction(self._redis, watch, body, timeout_s=cfg.redis_timeout_s)
        replayed = earlier is not None
        if earlier is not None:
            found = await self.get(earlier)
            if found is None:
                raise NotFound("the check-in of this Idempotency-Key no longer exists")
            checkin = found
        await self._notify(owner, checkin_notice(checkin.id), friends=friends[0])
        return checkin, replayed

    async def get(self, cid: str) -> CheckIn | None:
        """The check-in ``cid`` if it still exists (no access check: see :mod:`.policy`).

        Raises:
            StoreError: Redis failed.
        """
        if not is_id(cid):
            return None
        fields = await store.call(
            self._redis.hgetall(keys.checkin(cid)), self._config.redis_timeout_s
        )
        return _parse(cid, store.text_map(fields))

    async def get_many(self, cids: list[str]) -> dict[str, CheckIn]:
        """The check-ins of ``cids`` that still exist, in one pipelined round trip.

        Raises:
            StoreError: Redis failed.
        """
        return await self._load([cid for cid in cids if is_id(cid)])

    async def list_of(self, uid: str) -> list[CheckIn]:
        """``uid``'s live check-ins, newest first.

        Raises:
            StoreError: Redis failed.
        """
        index = keys.user_checkins(uid)
        timeout = self._config.redis_timeout_s
        ids = [
            store.text(m) for m in await store.call(self._redis.zrevrange(index, 0, -1), timeout)
        ]
        found = await self._load(ids)
        await self._forget(uid, [cid for cid in ids if cid not in found])
        return [found[cid] for cid in ids if cid in found]

    async def latest_of(self, uids: list[str]) -> dict[str, CheckIn | None]:
        """The newest live check-in of each of ``uids`` (None for those without one).

        Raises:
            StoreError: Redis failed.
        """
        timeout = self._config.redis_timeout_s
        async with self._redis.pipeline(transaction=False) as pipe:
            for uid in uids:
                pipe.zrevrange(keys.user_checkins(uid), 0, LATEST_PROBE - 1)
            probes = await store.call(pipe.execute(), timeout)
        ids_of = {uid: [store.text(m) for m in ids] for uid, ids in zip(uids, probes, strict=True)}
        found = await self._load([cid for ids in ids_of.values() for cid in ids])
        latest: dict[str, CheckIn | None] = {}
        for uid, ids in ids_of.items():
            alive = [found[cid] for cid in ids if cid in found]
            if alive:
                latest[uid] = alive[0]
            elif len(ids) < LATEST_PROBE:
                latest[uid] = None
                await self._forget(uid, ids)
            else:
                rest = await self.list_of(uid)
                latest[uid] = rest[0] if rest else None
        return latest

    async def delete(self, owner: str, cid: str) -> None:
        """Delete ``owner``'s check-in ``cid`` now, and tell the friends' live channels.

        Raises:
            NotFound: no such check-in of ``owner`` (someone else's looks the same).
            StoreError: Redis failed.
        """
        if not is_id(cid):
            raise NotFound("no such check-in")

        async def body(pipe: Pipeline) -> None:
            fields = store.text_map(await pipe.hgetall(keys.checkin(cid)))
            if fields.get("owner") != owner:
                raise NotFound("no such check-in")
            store.begin(pipe)
            pipe.delete(keys.checkin(cid))
            pipe.zrem(keys.user_checkins(owner), cid)
            if fields.get("idem"):
                pipe.delete(fields["idem"])

        await store.transaction(
            self._redis, [keys.checkin(cid)], body, timeout_s=self._config.redis_timeout_s
        )
        await self._notify(owner, checkin_deleted_notice(cid))

    async def _notify(
        self, owner: str, envelope: Envelope, *, friends: frozenset[str] | None = None
    ) -> None:
        """Best effort: the check-in is already stored, and friends also see it through
        ``GET /api/checkins/friends`` and the live snapshot. ``friends``: the owner's, when
        already read."""
        if friends is None:
            try:
                friends = await self._friends.friends_of(owner)
            except StoreError:
                log.warning("check-in notification skipped: friends unavailable")
                return
        await self._inboxes.push_many([owner, *sorted(friends)], envelope)

    async def _load(self, ids: list[str]) -> dict[str, CheckIn]:
        if not ids:
            return {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for cid in ids:
                pipe.hgetall(keys.checkin(cid))
            rows = await store.call(pipe.execute(), self._config.redis_timeout_s)
        out: dict[str, CheckIn] = {}
        for cid, row in zip(ids, rows, strict=True):
            parsed = _parse(cid, store.text_map(row))
            if parsed is not None:
                out[cid] = parsed
        return out

    async def _forget(self, uid: str, gone: list[str]) -> None:
        """Drop index entries of check-ins that expired (their data is already gone)."""
        if gone:
            await store.call(
                self._redis.zrem(keys.user_checkins(uid), *gone), self._config.redis_timeout_s
            )


def _fields(checkin: CheckIn, idem: str | None) -> dict[FieldT, EncodableT]:
    return {
        "owner": checkin.owner,
        "status": checkin.status.value,
        "note": checkin.note,
        "pref": checkin.pref or "",
        "event_id": checkin.event_id or "",
        "created_at": repr(checkin.created_at),
        "expires_at": repr(checkin.expires_at),
        "lat": "" if checkin.lat is None else repr(checkin.lat),
        "lon": "" if checkin.lon is None else repr(checkin.lon),
        "idem": idem or "",
    }
