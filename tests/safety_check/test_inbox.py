"""Private inbox streams (safety_check.inbox) through broadcast's Timeline API."""

from __future__ import annotations

import redis.asyncio

from tests.safety_check.conftest import fast_config
from yure.safety_check.bus import InboxBus
from yure.safety_check.inbox import Inboxes, checkin_deleted_notice, checkin_notice

RETENTION_S = 600


async def test_an_inbox_expires_whole_after_its_last_notice(
    redis_client: redis.asyncio.Redis,
) -> None:
    bus = InboxBus(redis_client, timeout_s=5.0)
    inboxes = Inboxes(redis_client, config=fast_config(inbox_retention_s=RETENTION_S), bus=bus)
    await inboxes.push("u1", checkin_notice("c1"))
    await inboxes.push("u1", checkin_deleted_notice("c1"))  # writes the replaces index too
    timeline = inboxes.timeline("u1")
    present = [key for key in await timeline.all_keys() if await redis_client.exists(key)]
    assert timeline.stream_key in present and len(present) >= 3
    for key in present:
        ttl_ms = await redis_client.pttl(key)
        assert 0 < ttl_ms <= RETENTION_S * 1000, key
    assert await inboxes.push_many(["u2", "u3"], checkin_notice("c2")) == 0
    assert await redis_client.pttl(inboxes.timeline("u3").stream_key) > 0
