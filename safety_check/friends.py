"""Mutual friendship: requests by handle, invite links, removal (driver; rules in .policy).

A request to a handle nobody holds is recorded exactly like one to a real account (it shows
in the requester's ``outgoing`` list, answers ``requested``) so nobody can probe which
handles exist or who is friends with whom. Such an entry never binds to an account created
later under that handle: it is kept with an empty uid and does nothing.
"""

from __future__ import annotations

import dataclasses
import logging

from redis.asyncio.client import Pipeline

from yure.safety_check import keys, store
from yure.safety_check.accounts import Accounts
from yure.safety_check.config import Clock, SafetyConfig
from yure.safety_check.errors import InvalidInput, NotFound
from yure.safety_check.inbox import Inboxes, NoticeKind, friend_notice
from yure.safety_check.policy import FriendStep, Link, friend_request_step
from yure.safety_check.tokens import hash_token, is_token, new_token

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class FriendListing:
    """What ``GET /api/friends`` shows: handles, sorted."""

    friends: tuple[str, ...]
    incoming: tuple[str, ...]
    outgoing: tuple[str, ...]


class Friends:
    """The friend graph of every account."""

    def __init__(
        self,
        redis: store.Redis,
        *,
        accounts: Accounts,
        inboxes: Inboxes,
        config: SafetyConfig,
        clock: Clock,
    ) -> None:
        self._redis = redis
        self._accounts = accounts
        self._inboxes = inboxes
        self._config = config
        self._clock = clock

    async def request(self, me: str, my_handle: str, target_handle: str) -> FriendStep:
        """Ask for ``target_handle``, or accept their pending request.

        Raises:
            InvalidInput: asking for oneself, too many pending requests, friend limit.
            StoreError: Redis failed.
        """
        if target_handle == my_handle:
            raise InvalidInput("you cannot befriend yourself")
        target = await self._accounts.uid_of(target_handle)
        watch = [keys.friends(me), keys.incoming(me), keys.outgoing(me)]
        if target is not None:
            watch += [keys.friends(target), keys.incoming(target), keys.outgoing(target)]
        cfg = self._config

        async def body(pipe: Pipeline) -> FriendStep:
            pending = int(await pipe.hlen(keys.outgoing(me)))
            asked = store.opt_text(await pipe.hget(keys.outgoing(me), target_handle))
            if target is None:
                step = FriendStep.ALREADY_REQUESTED if asked is not None else (FriendStep.REQUESTED)
            else:
                link = Link(
                    friends=bool(await pipe.sismember(keys.friends(me), target)),
                    i_asked=asked == target,
                    they_asked=bool(await pipe.sismember(keys.incoming(me), target)),
                )
                step = friend_request_step(link)
            if step is FriendStep.REQUESTED:
                if asked is None and pending >= cfg.max_pending_requests:
                    raise InvalidInput("too many pending friend requests")
                their_incoming = (
                    0 if target is None else int(await pipe.scard(keys.incoming(target)))
                )
                store.begin(pipe)
                pipe.hset(keys.outgoing(me), target_handle, target or "")
                # A full incoming list drops the request silently: refusing would tell the
                # requester that the handle exists.
                if target is not None and their_incoming < cfg.max_pending_requests:
                    pipe.sadd(keys.incoming(target), me)
            elif step is FriendStep.ACCEPTED and target is not None:
                mine = int(await pipe.scard(keys.friends(me)))
                theirs = int(await pipe.scard(keys.friends(target)))
                if max(mine, theirs) >= cfg.max_friends:
                    raise InvalidInput("friend limit reached")
                store.begin(pipe)
                _befriend(pipe, me, my_handle, target, target_handle)
            return step

        step = await store.transaction(self._redis, watch, body, timeout_s=cfg.redis_timeout_s)
        if step is FriendStep.ACCEPTED and target is not None:
            await self._notify_pair(NoticeKind.FRIEND_ADDED, me, target)
        return step

    async def remove(self, me: str, my_handle: str, target_handle: str) -> None:
        """End a friendship, withdraw a request or decline one. Answers the same whether or
        not ``target_handle`` exists or was related.

        Raises:
            StoreError: Redis failed.
        """
        target = await self._accounts.uid_of(target_handle)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(keys.outgoing(me), target_handle)
            if target is not None:
                pipe.srem(keys.friends(me), target)
                pipe.srem(keys.friends(target), me)
                pipe.srem(keys.incoming(me), target)
                pipe.srem(keys.incoming(target), me)
                pipe.hdel(keys.outgoing(target), my_handle)
            results = await store.call(pipe.execute(), self._config.redis_timeout_s)
        if target is not None and int(results[1]) == 1:
            await self._notify_pair(NoticeKind.FRIEND_REMOVED, me, target)

    async def create_invite(self, me: str) -> str:
        """A single-use invite token, alive ``invite_ttl_s``: whoever accepts it (an explicit
        POST after :meth:`invite_inviter` named ``me``) becomes ``me``'s friend.

        Raises:
            StoreError: Redis failed.
        """
        token = new_token()
        await store.call(
            self._redis.set(
                keys.invite(hash_token(token)), me, px=store.ms(self._config.invite_ttl_s)
            ),
            self._config.redis_timeout_s,
        )
        return token

    async def invite_inviter(self, me: str, token: str) -> str:
        """The handle of whoever made the invite ``token`` (to name them before accepting).

        Raises:
            NotFound: unknown, used or expired token.
            InvalidInput: one's own invite.
            StoreError: Redis failed.
        """
        inviter = await self._inviter(me, token)
        account = await self._accounts.get(inviter)
        if account is None:
            raise NotFound("no such invite")
        return account.handle

    async def _inviter(self, me: str, token: str) -> str:
        if not is_token(token):
            raise NotFound("no such invite")
        key = keys.invite(hash_token(token))
        inviter = store.opt_text(
            await store.call(self._redis.get(key), self._config.redis_timeout_s)
        )
        if inviter is None:
            raise NotFound("no such invite")
        if inviter == me:
            raise InvalidInput("that is your own invite")
        return inviter

    async def accept_invite(self, me: str, my_handle: str, token: str) -> str:
        """Accept an invite; returns the inviter's handle.

        Raises:
            NotFound: unknown, used or expired token.
            InvalidInput: one's own invite, or a friend limit reached.
            StoreError: Redis failed.
        """
        inviter = await self._inviter(me, token)
        invite_key = keys.invite(hash_token(token))
        cfg = self._config
        account = await self._accounts.get(inviter)
        if account is None:
            raise NotFound("no such invite")

        async def body(pipe: Pipeline) -> None:
            if store.opt_text(await pipe.get(invite_key)) != inviter:
                raise NotFound("no such invite")
            mine = int(await pipe.scard(keys.friends(me)))
            theirs = int(await pipe.scard(keys.friends(inviter)))
            already = bool(await pipe.sismember(keys.friends(me), inviter))
            if not already and max(mine, theirs) >= cfg.max_friends:
                raise InvalidInput("friend limit reached")
            store.begin(pipe)
            pipe.delete(invite_key)
            _befriend(pipe, me, my_handle, inviter, account.handle)

        watch = [invite_key, keys.friends(me), keys.friends(inviter)]
        await store.transaction(self._redis, watch, body, timeout_s=cfg.redis_timeout_s)
        await self._notify_pair(NoticeKind.FRIEND_ADDED, me, inviter)
        return account.handle

    async def friends_of(self, uid: str) -> frozenset[str]:
        """The uids of ``uid``'s friends.

        Raises:
            StoreError: Redis failed.
        """
        members = await store.call(
            self._redis.smembers(keys.friends(uid)), self._config.redis_timeout_s
        )
        return frozenset(store.text(m) for m in members)

    async def friends_of_many(self, uids: list[str]) -> dict[str, frozenset[str]]:
        """:meth:`friends_of` of each of ``uids``, in one pipelined round trip.

        Raises:
            StoreError: Redis failed.
        """
        if not uids:
            return {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for uid in uids:
                pipe.smembers(keys.friends(uid))
            found = await store.call(pipe.execute(), self._config.redis_timeout_s)
        return {
            uid: frozenset(store.text(m) for m in members)
            for uid, members in zip(uids, found, strict=True)
        }

    async def listing(self, uid: str) -> FriendListing:
        """Friends, incoming and outgoing requests of ``uid``, as handles.

        Raises:
            StoreError: Redis failed.
        """
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.smembers(keys.friends(uid))
            pipe.smembers(keys.incoming(uid))
            pipe.hkeys(keys.outgoing(uid))
            friends, incoming, outgoing = await store.call(
                pipe.execute(), self._config.redis_timeout_s
            )
        friend_ids = [store.text(m) for m in friends]
        incoming_ids = [store.text(m) for m in incoming]
        handles = await self._accounts.handles_of(friend_ids + incoming_ids)
        return FriendListing(
            friends=tuple(sorted(handles[u] for u in friend_ids if u in handles)),
            incoming=tuple(sorted(handles[u] for u in incoming_ids if u in handles)),
            outgoing=tuple(sorted(store.text(h) for h in outgoing)),
        )

    async def _notify_pair(self, kind: NoticeKind, a: str, b: str) -> None:
        stamp = self._clock()
        await self._inboxes.push_many([a], friend_notice(kind, b, stamp))
        await self._inboxes.push_many([b], friend_notice(kind, a, stamp))


def _befriend(pipe: Pipeline, a: str, a_handle: str, b: str, b_handle: str) -> None:
    """Queue the writes that make ``a`` and ``b`` friends and clear requests both ways."""
    pipe.sadd(keys.friends(a), b)
    pipe.sadd(keys.friends(b), a)
    pipe.srem(keys.incoming(a), b)
    pipe.srem(keys.incoming(b), a)
    pipe.hdel(keys.outgoing(a), b_handle)
    pipe.hdel(keys.outgoing(b), a_handle)
