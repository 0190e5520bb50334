"""User posts on the public timeline: anonymous, coarse location, reportable (driver).

A post is published as kind ``post``, ``official: false``, with its prefecture as the only
routing pref. When it carries a point, the point is tagged to a prefecture with
``geo.locate.pref_at`` and then rounded to 0.1°; the precise value is never stored or
published. The author's uid is kept next to the post (never published) only to stop
self-reports; it expires with the post. After ``post_hide_reports`` distinct voices
(:mod:`.voices`: networks, established accounts; new accounts count once together) report
it, a retraction replacing the post is published so live clients hide it. The operator
lists hidden posts and restores them (``yure admin posts hidden|restore``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from redis.asyncio.client import Pipeline

from yure.broadcast.envelope import Envelope
from yure.broadcast.errors import TimelineError
from yure.broadcast.timeline import Timeline
from yure.geo.errors import GeoError
from yure.ingest.event import Kind
from yure.safety_check import keys, store, wire
from yure.safety_check.config import Clock, SafetyConfig
from yure.safety_check.errors import InvalidInput, NotFound
from yure.safety_check.model import Post, PostDraft
from yure.safety_check.policy import post_hidden
from yure.safety_check.text import coarsen
from yure.safety_check.tokens import is_id, new_id

log = logging.getLogger(__name__)

#: ``geo.locate.pref_at``: (lat, lon) → JIS code or None (at sea / abroad).
Locator = Callable[[float, float], str | None]


def post_key(pid: str) -> str:
    """Timeline idempotency key of a post."""
    return f"post:{pid}"


def locate(locator: Locator, lat: float, lon: float) -> str | None:
    """Tag a point with its prefecture.

    Raises:
        InvalidInput: geo refused the point.
    """
    try:
        return locator(lat, lon)
    except GeoError as err:
        raise InvalidInput("lat/lon could not be located") from err


class Posts:
    """Create, read and report public posts."""

    def __init__(
        self,
        redis: store.Redis,
        *,
        timeline: Timeline,
        locator: Locator,
        config: SafetyConfig,
        clock: Clock,
    ) -> None:
        self._redis = redis
        self._timeline = timeline
        self._locator = locator
        self._config = config
        self._clock = clock

    async def create(self, author: str, draft: PostDraft) -> Post:
        """Store and publish a post.

        Raises:
            InvalidInput: the point could not be located.
            StoreError: Redis failed.
        """
        pref, lat, lon = draft.pref, None, None
        if draft.lat is not None and draft.lon is not None:
            pref = locate(self._locator, draft.lat, draft.lon) or pref
            lat, lon = coarsen(draft.lat), coarsen(draft.lon)
        post = Post(
            id=new_id(),
            author=author,
            text=draft.text,
            pref=pref,
            lat=lat,
            lon=lon,
            created_at=self._clock(),
        )
        ttl_ms = store.ms(self._config.public_retention_s)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                keys.post(post.id),
                mapping={
                    "author": author,
                    "text": post.text,
                    "pref": post.pref or "",
                    "lat": "" if lat is None else repr(lat),
                    "lon": "" if lon is None else repr(lon),
                    "created_at": repr(post.created_at),
                    "hidden": "0",
                },
            )
            pipe.pexpire(keys.post(post.id), ttl_ms)
            await store.call(pipe.execute(), self._config.redis_timeout_s)
        await self._append(
            Envelope(
                key=post_key(post.id),
                kind=Kind.POST,
                prefs=() if pref is None else (pref,),
                payload=wire.dumps(wire.post_json(post)),
            )
        )
        return post

    async def get(self, pid: str) -> Post | None:
        """The post ``pid``, or None when absent, expired or hidden.

        Raises:
            StoreError: Redis failed.
        """
        post = await self._load(pid)
        return None if post is None or post.hidden else post

    async def report(self, reporter: str, pid: str, *, voice: tuple[str, ...]) -> None:
        """Record ``reporter``'s report. It counts towards hiding only when none of its
        ``voice`` tokens (:mod:`.voices`: network, account or cohort) counted before for
        this post; the post is hidden at ``post_hide_reports`` voices. The author's own
        report and an account's repeated reports do not count.

        Raises:
            NotFound: no such post.
            StoreError: Redis failed.
        """
        post = await self._load(pid)
        if post is None:
            raise NotFound("no such post")
        if post.author == reporter:
            return
        timeout = self._config.redis_timeout_s
        ttl_ms = max(int(await store.call(self._redis.pttl(keys.post(pid)), timeout)), 1000)
        voices_key = keys.post_voices(pid)

        async def body(pipe: Pipeline) -> int | None:
            if await pipe.sismember(keys.post_reports(pid), reporter):
                return None
            counted = await pipe.smismember(voices_key, list(voice))
            so_far = int(store.opt_text(await pipe.hget(keys.post(pid), "reports")) or "0")
            store.begin(pipe)
            pipe.sadd(keys.post_reports(pid), reporter)
            pipe.pexpire(keys.post_reports(pid), ttl_ms)
            if any(counted):
                return None
            pipe.sadd(voices_key, *voice)
            pipe.pexpire(voices_key, ttl_ms)
            pipe.hincrby(keys.post(pid), "reports", 1)
            return so_far + 1

        watch = [keys.post_reports(pid), voices_key, keys.post(pid)]
        voices = await store.transaction(self._redis, watch, body, timeout_s=timeout)
        if voices is None or post.hidden:
            return
        if not post_hidden(voices, self._config.post_hide_reports):
            return
        await self._hide(post, voices)

    async def _hide(self, post: Post, voices: int) -> None:
        timeout = self._config.redis_timeout_s
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.post(post.id), "hidden", "1")
            pipe.zadd(keys.HIDDEN_POSTS, {post.id: self._clock()})
            await store.call(pipe.execute(), timeout)
        log.info("post hidden voices=%d", voices)
        await self._append(
            Envelope(
                key=f"post_hidden:{post.id}:{round(self._clock() * 1000)}",
                kind="post",
                prefs=() if post.pref is None else (post.pref,),
                payload=wire.dumps(wire.post_hidden_json(post)),
                replaces=post_key(post.id),
            )
        )

    async def hidden(self) -> list[Post]:
        """Hidden posts that still exist, oldest hiding first (for the operator).

        Raises:
            StoreError: Redis failed.
        """
        timeout = self._config.redis_timeout_s
        ids = [
            store.text(i)
            for i in await store.call(self._redis.zrange(keys.HIDDEN_POSTS, 0, -1), timeout)
        ]
        out: list[Post] = []
        for pid in ids:
            post = await self._load(pid)
            if post is None or not post.hidden:
                await store.call(self._redis.zrem(keys.HIDDEN_POSTS, pid), timeout)
                continue
            out.append(post)
        return out

    async def restore(self, pid: str) -> bool:
        """Show a hidden post again (the operator overruled its reports): the reports are
        forgotten and the post is published again, replacing its retraction. False when
        ``pid`` is not a hidden post.

        Raises:
            StoreError: Redis failed.
        """
        post = await self._load(pid)
        timeout = self._config.redis_timeout_s
        if post is None or not post.hidden:
            return False
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.post(pid), mapping={"hidden": "0", "reports": "0"})
            pipe.delete(keys.post_reports(pid), keys.post_voices(pid))
            pipe.zrem(keys.HIDDEN_POSTS, pid)
            await store.call(pipe.execute(), timeout)
        log.info("post restored by the operator")
        shown = dataclasses.replace(post, hidden=False)
        await self._append(
            Envelope(
                key=f"post_restored:{pid}:{round(self._clock() * 1000)}",
                kind="post",
                prefs=() if post.pref is None else (post.pref,),
                payload=wire.dumps(wire.post_json(shown)),
                replaces=post_key(pid),
            )
        )
        return True

    async def _load(self, pid: str) -> Post | None:
        if not is_id(pid):
            return None
        fields = store.text_map(
            await store.call(self._redis.hgetall(keys.post(pid)), self._config.redis_timeout_s)
        )
        if "author" not in fields:
            return None
        return Post(
            id=pid,
            author=fields["author"],
            text=fields.get("text", ""),
            pref=fields.get("pref") or None,
            lat=float(fields["lat"]) if fields.get("lat") else None,
            lon=float(fields["lon"]) if fields.get("lon") else None,
            created_at=float(fields.get("created_at", "0")),
            hidden=fields.get("hidden") == "1",
        )

    async def _append(self, envelope: Envelope) -> None:
        try:
            await self._timeline.append(envelope)
        except TimelineError as err:
            raise store.wrap_broadcast(err) from err
