"""Operator actions on one account (driver): revoke its sessions, erase it and its data.

``yure admin accounts delete HANDLE`` erases everything yure keeps about the account
(keys listed in :mod:`safety_check.keys`): the account hash, sessions, friendships (both
sides), pending requests (both sides), check-ins and their idempotency records, the
private inbox stream, live seats, and the author link of its posts (the posts stay on the
public timeline, which carries no author, until retention removes them). The handle is
kept as a tombstone so that it is never reused by someone else (docs/api.md: handles are
never reused), and so is its confusable skeleton. Every key named after the account goes
(rate counters, recovery codes too). Left are only notification ids in friends' inboxes
(they expire in 24 h and are never delivered: each is re-checked when it would be).

The reads are done first, then every write in one MULTI/EXEC, so a friend never sees a
half-deleted account.
"""

from __future__ import annotations

import dataclasses
import logging

from yure.safety_check import keys, store
from yure.safety_check.errors import NotFound
from yure.safety_check.store import Redis

log = logging.getLogger(__name__)

#: Timeout of each Redis round trip here.
ERASE_TIMEOUT_S = 30.0
#: Keys one SCAN round asks for.
SCAN_COUNT = 1000
#: What a deleted account's handle key holds: taken, by nobody.
TOMBSTONE = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Erased:
    """What :func:`erase_account` removed (counts only: no content)."""

    uid: str
    sessions: int
    friends: int
    checkins: int
    posts: int
    keys: int


async def uid_of(redis: Redis, handle: str) -> str:
    """The uid of a live account.

    Raises:
        NotFound: no such account (or a deleted one).
    """
    uid = store.opt_text(await store.call(redis.get(keys.handle(handle)), ERASE_TIMEOUT_S))
    if not uid:
        raise NotFound(f"no account {handle!r}")
    return uid


async def revoke_sessions(redis: Redis, handle: str) -> int:
    """End every session of ``handle`` (its tokens stop working at once); the number.

    Raises:
        NotFound: no such account.
    """
    uid = await uid_of(redis, handle)
    hashes = await store.call(redis.smembers(keys.user_sessions(uid)), ERASE_TIMEOUT_S)
    async with redis.pipeline(transaction=True) as pipe:
        for token_hash in hashes:
            pipe.delete(keys.session(store.text(token_hash)))
        pipe.delete(keys.user_sessions(uid))
        await store.call(pipe.execute(), ERASE_TIMEOUT_S)
    log.info("sessions revoked uid=%s count=%d", uid, len(hashes))
    return len(hashes)


async def erase_account(redis: Redis, handle: str) -> Erased:
    """Delete the account ``handle`` and all its data (see the module docstring).

    Raises:
        NotFound: no such account.
    """
    uid = await uid_of(redis, handle)

    t = ERASE_TIMEOUT_S
    sessions = [store.text(h) for h in await store.call(redis.smembers(keys.user_sessions(uid)), t)]
    friends = [store.text(f) for f in await store.call(redis.smembers(keys.friends(uid)), t)]
    askers = [store.text(a) for a in await store.call(redis.smembers(keys.incoming(uid)), t)]
    asked = store.text_map(await store.call(redis.hgetall(keys.outgoing(uid)), t))
    checkins = [
        store.text(c) for c in await store.call(redis.zrange(keys.user_checkins(uid), 0, -1), t)
    ]
    # Every key named after the account (idempotency records, its inbox stream, rate
    # counters, recovery codes, and whatever a later version adds).
    scanned = await _scan(redis, f"*{uid}*")
    # Pointers to the account: its handle's confusable skeleton keeps the handle taken.
    skeletons = []
    for key in await _scan(redis, keys.skeleton("*")):
        if store.opt_text(await store.call(redis.get(key), t)) == uid:
            skeletons.append(key)
    posts = []
    for key in await _scan(redis, keys.post("*")):
        if store.opt_text(await store.call(redis.hget(key, "author"), t)) == uid:
            posts.append(key)
    doomed = [
        keys.user(uid),
        keys.user_sessions(uid),
        keys.friends(uid),
        keys.incoming(uid),
        keys.outgoing(uid),
        keys.user_checkins(uid),
        keys.live_seats(uid),
        *(keys.session(h) for h in sessions),
        *(keys.checkin(c) for c in checkins),
        *scanned,
        *posts,
    ]
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(*doomed)
        pipe.set(keys.handle(handle), TOMBSTONE)
        for skeleton in skeletons:
            pipe.set(skeleton, TOMBSTONE)
        for friend in friends:
            pipe.srem(keys.friends(friend), uid)
        for asker in askers:  # their request now points at nobody, as to an unknown handle
            pipe.hset(keys.outgoing(asker), handle, "")
        for target in asked.values():
            if target:
                pipe.srem(keys.incoming(target), uid)
        for post_key in posts:
            pipe.zrem(keys.HIDDEN_POSTS, post_key.removeprefix(keys.post("")))
        await store.call(pipe.execute(), ERASE_TIMEOUT_S)
    erased = Erased(
        uid=uid,
        sessions=len(sessions),
        friends=len(friends),
        checkins=len(checkins),
        posts=len(posts),
        keys=len(doomed),
    )
    log.info("account erased uid=%s keys=%d", uid, erased.keys)
    return erased


async def _scan(redis: Redis, pattern: str) -> list[str]:
    found: list[str] = []
    async for key in redis.scan_iter(match=pattern, count=SCAN_COUNT):
        found.append(store.text(key))
    return found
