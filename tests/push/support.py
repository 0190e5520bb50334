"""A yure app with push, a local push service, and the tools to drive both."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from tests.broadcast.support import Server, running_server
from tests.ingest import telegrams
from tests.push.pushservice import PushService
from tests.support import base_url, serving
from yure.broadcast.envelope import Envelope
from yure.ingest.event import event_to_json
from yure.ingest.telegram import parse_telegram
from yure.push import vapid
from yure.push.service import PUSH

#: Deadline of one wait (the issue's bound for a push to arrive).
WAIT_S = 5.0
JST = timezone(timedelta(hours=9))
#: A fixed VAPID key for the tests' servers.
VAPID_KEY = vapid.private_key_to_b64(vapid.generate_private_key())


@dataclass
class PushRig:
    server: Server
    push: PushService
    http: aiohttp.ClientSession

    async def subscribe(self, name: str, flt: dict[str, Any] | None = None) -> dict[str, Any]:
        body = {"subscription": self.push.subscribe(name), "filter": flt or {}}
        async with self.http.post(
            self.server.base + "/api/push/subscriptions", json=body
        ) as response:
            answer = await response.json()
            assert response.status == 201, answer
            return dict(answer)

    async def append(self, key: str, telegram: bytes, *, replaces: str | None = None) -> str:
        event = event_to_json(parse_telegram(telegram))
        envelope = Envelope(
            key, event["kind"], tuple(event["prefs"]), orjson.dumps(event), replaces
        )
        return await self.server.timeline.append(envelope)

    @contextlib.asynccontextmanager
    async def delivering(self) -> AsyncIterator[asyncio.Task[None]]:
        """The delivery job (under its lease) while the block runs."""
        task = asyncio.create_task(self.server.app[PUSH].run_delivery())
        try:
            await until(self.lease_taken)
            yield task
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def lease_taken(self) -> bool:
        cursor = await self.server.redis.get("{yure:push}:cursor")
        return cursor is not None


async def until(condition: Callable[[], Any], *, wait_s: float = WAIT_S) -> None:
    """Poll ``condition`` (sync or async) until true, failing after ``wait_s``."""
    async with asyncio.timeout(wait_s):
        while True:
            value = condition()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def push_rig(redis_url: str, tmp_path: Path, **settings: Any) -> AsyncIterator[PushRig]:
    """yure (push on http://127.0.0.1 allowed) + a local push service + an HTTP client."""
    key = vapid.private_key_from_b64(VAPID_KEY)
    service = PushService(server_public_key=vapid.public_key_b64(key))
    async with serving(service.app()) as push_runner:
        service.origin = base_url(push_runner)
        conf: dict[str, Any] = {
            "push_allow_insecure_local": True,
            "vapid_private_key": VAPID_KEY,
            "vapid_subject": "mailto:ops@example.org",
            "push_max_subs_per_ip": 1000,
        }
        conf.update(settings)
        async with (
            running_server(redis_url, tmp_path, **conf) as server,
            aiohttp.ClientSession() as http,
        ):
            yield PushRig(server, service, http)


def quake(event_id: str, *, minute: int = 0, max_int: str = "3") -> bytes:
    """A VXSE53 for 宮城県 (04) and 福島県 (07)."""
    when = datetime(2026, 11, 29, 21, minute, tzinfo=JST)
    return telegrams.quake("VXSE53", event_id=event_id, report_time=when, max_int=max_int)


def cancellation(event_id: str, *, minute: int = 5) -> bytes:
    when = datetime(2026, 11, 29, 21, minute, tzinfo=JST)
    return telegrams.cancellation("VXSE53", event_id=event_id, report_time=when)
