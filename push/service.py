"""Wiring of push into an aiohttp app and ``yure serve``. Driver module.

:func:`setup` adds the API (:mod:`yure.push.http`); :func:`run_delivery` competes for
the lease ``yure:lease:push`` and, while it holds it, runs the delivery job
(:mod:`yure.push.job`). The VAPID key is read (or made) on first use, so an app that
never pushes writes nothing to the data dir.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web
from redis.asyncio import Redis

from yure.broadcast.filter import PrefResolver
from yure.broadcast.timeline import Timeline
from yure.infra.lease import Lease
from yure.push import keyfile
from yure.push.encryptor import PoolEncryptor, default_encryptor
from yure.push.http import Locator, PushApi
from yure.push.job import DeliveryJob
from yure.push.limits import MAX_SUBSCRIPTIONS
from yure.push.sender import PushSender, push_client
from yure.push.store import SubscriptionStore
from yure.push.vapid import VapidSigner
from yure.settings import Settings

log = logging.getLogger(__name__)

LEASE_NAME = "yure:lease:push"


class PushService:
    """What one app shares for push: settings, store, timeline and the lazy signer."""

    def __init__(self, settings: Settings, redis: Redis, timeline: Timeline) -> None:
        self.settings = settings
        self.redis = redis
        self.timeline = timeline
        self.store = SubscriptionStore(
            redis, max_per_address=settings.push_max_subs_per_ip, max_total=MAX_SUBSCRIPTIONS
        )
        self._signer: VapidSigner | None = None

    def signer(self) -> VapidSigner:
        """The VAPID signer (key loaded or made on first call).

        Raises:
            VapidKeyError: the key is unusable or cannot be stored.
        """
        if self._signer is None:
            key = keyfile.load_or_create(self.settings.data_dir, self.settings.vapid_private_key)
            self._signer = VapidSigner(key, self.settings.vapid_subject)
        return self._signer

    async def run_delivery(self) -> None:
        """Forever: hold the push lease and deliver while holding it (until cancelled)."""
        signer = self.signer()
        settings = self.settings

        async def work() -> None:
            encryptor = default_encryptor()
            client = push_client(
                allow_local=settings.push_allow_insecure_local,
                connections=settings.push_concurrency,
            )
            try:
                job = DeliveryJob(
                    self.redis,
                    self.timeline,
                    self.store,
                    PushSender(client, signer),
                    concurrency=settings.push_concurrency,
                    retention_s=settings.retention_s,
                    encryptor=encryptor,
                )
                await job.run()
            finally:
                client.close()
                if isinstance(encryptor, PoolEncryptor):
                    encryptor.close()

        await Lease(self.redis, name=LEASE_NAME).run(work)


PUSH = web.AppKey("yure.push", PushService)


def setup(
    app: web.Application,
    *,
    settings: Settings,
    redis: Redis,
    timeline: Timeline,
    resolve: PrefResolver,
    locator: Locator | None = None,
    clock: Callable[[], float] | None = None,
) -> PushService:
    """Add the push API to ``app``; the returned service also runs the delivery job."""
    service = PushService(settings, redis, timeline)
    app[PUSH] = service
    api = PushApi(
        service.store,
        signer=service.signer,
        allow_local=settings.push_allow_insecure_local,
        resolve=resolve,
        locator=locator,
    )
    if clock is not None:
        api.clock = clock
    api.setup(app)
    return service
