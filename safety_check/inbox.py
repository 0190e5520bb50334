"""Private per-user inbox streams: live notifications for one account (driver).

Each user has a ``broadcast.timeline.Timeline`` named ``{yure:sc}:inbox:<uid>``. What goes in
is a *notification*, not the content: ``{"type": "checkin", "id": ...}``. The live channel
(:mod:`safety_check.live`) looks the check-in up and re-checks the friendship when it
delivers, so a deleted or expired check-in is never served from an inbox and an ex-friend
never gets one. The whole inbox expires ``inbox_retention_s`` after its last notification.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from enum import StrEnum

import orjson

from yure.broadcast.envelope import Entry, Envelope
from yure.broadcast.errors import TimelineError
from yure.broadcast.timeline import Timeline, entries_of
from yure.safety_check import keys, store
from yure.safety_check.bus import InboxBus, queue_announce
from yure.safety_check.config import SafetyConfig

log = logging.getLogger(__name__)


class NoticeKind(StrEnum):
    """Inbox notification kinds (also the envelope ``kind``)."""

    CHECKIN = "checkin"
    CHECKIN_DELETED = "checkin_deleted"
    FRIEND_ADDED = "friend_added"
    FRIEND_REMOVED = "friend_removed"


def checkin_notice(cid: str) -> Envelope:
    """ "A check-in ``cid`` was made" (idempotent per check-in)."""
    return Envelope(
        key=f"checkin:{cid}",
        kind=NoticeKind.CHECKIN,
        prefs=(),
        payload=orjson.dumps({"type": NoticeKind.CHECKIN, "id": cid}),
    )


def checkin_deleted_notice(cid: str) -> Envelope:
    """ "Check-in ``cid`` is gone": replaces the notice of its creation."""
    return Envelope(
        key=f"checkin_deleted:{cid}",
        kind=NoticeKind.CHECKIN_DELETED,
        prefs=(),
        payload=orjson.dumps({"type": NoticeKind.CHECKIN_DELETED, "id": cid}),
        replaces=f"checkin:{cid}",
    )


def friend_notice(kind: NoticeKind, other_uid: str, stamp: float) -> Envelope:
    """Friendship with ``other_uid`` began or ended (``stamp`` makes repeats distinct)."""
    return Envelope(
        key=f"{kind}:{other_uid}:{round(stamp * 1000)}",
        kind=kind,
        prefs=(),
        payload=orjson.dumps({"type": kind, "uid": other_uid}),
    )


class Inboxes:
    """Append notifications to users' inbox streams."""

    def __init__(self, redis: store.Redis, *, config: SafetyConfig, bus: InboxBus) -> None:
        self._redis = redis
        self._config = config
        self._bus = bus

    def timeline(self, uid: str) -> Timeline:
        """The inbox stream of ``uid``."""
        return Timeline(
            self._redis,
            stream=keys.inbox_stream(uid),
            retention_s=self._config.inbox_retention_s,
            timeout_s=self._config.redis_timeout_s,
        )

    async def read_many(
        self, cursors: list[tuple[str, str]], *, limit: int
    ) -> dict[tuple[str, str], list[Entry]]:
        """Up to ``limit`` notifications after the cursor of each ``(uid, cursor)``, for
        many inboxes in one pipelined round trip.

        Raises:
            StoreError: Redis failed.
        """
        wanted = list(dict.fromkeys(cursors))
        if not wanted:
            return {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for uid, cursor in wanted:
                self.timeline(uid).queue_read_after(pipe, cursor, limit=limit)
            replies = await store.call(pipe.execute(), self._config.redis_timeout_s)
        try:
            return {pair: entries_of(reply) for pair, reply in zip(wanted, replies, strict=True)}
        except TimelineError as err:
            raise store.wrap_broadcast(err) from err

    async def push(self, uid: str, envelope: Envelope) -> str:
        """Append ``envelope`` to ``uid``'s inbox, push its expiry forward, and wake the
        live viewers of ``uid``.

        Raises:
            StoreError: Redis failed.
        """
        entry_id = await self._append(uid, envelope)
        await self._announce([uid])
        return entry_id

    async def _append(self, uid: str, envelope: Envelope) -> str:
        timeline = self.timeline(uid)
        try:
            entry_id = await timeline.append(envelope)
            await timeline.expire(self._config.inbox_retention_s)
        except TimelineError as err:
            raise store.wrap_broadcast(err) from err
        return entry_id

    async def _announce(self, uids: list[str]) -> None:
        # The live viewers, on any process, read their inbox now (not on the next idle
        # period). A lost wake-up only delays: the notification is already in the inbox.
        try:
            await self._bus.announce(uids)
        except store.StoreError as err:
            log.warning("inbox bus announce failed error=%s", err)

    async def push_many(self, uids: Iterable[str], envelope: Envelope) -> int:
        """Push ``envelope`` to every inbox of ``uids`` and wake their viewers in one round
        trip: one script appends to (and renews the expiry of) every inbox, then one bus
        entry names them all (issue 16: a check-in reaches 20 friends at 200 check-ins/s). A
        failure is logged and counted, not raised (the check-in itself is already
        durable). Returns how many inboxes did not get it."""
        targets = list(dict.fromkeys(uids))
        if not targets:
            return 0
        first, *others = [self.timeline(uid) for uid in targets]
        try:
            # The viewers, on any process, read their inbox now (not on the next idle
            # period). A lost wake-up only delays: the notification is already there.
            await first.fan_out(
                others,
                envelope,
                expire_s=self._config.inbox_retention_s,
                then=lambda pipe: queue_announce(pipe, targets),
            )
        except TimelineError as err:
            log.warning(
                "inbox push failed kind=%s inboxes=%d error=%s", envelope.kind, len(targets), err
            )
            return len(targets)
        return 0
