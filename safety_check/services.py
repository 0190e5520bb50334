"""The safety check's objects of one process, wired once (driver).

:func:`build_services` makes every store from one Redis client, one config and one clock;
the aiohttp app keeps the result under :data:`SERVICES`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from aiohttp import web

from yure.broadcast.timeline import Timeline
from yure.replication import ReplicatedWriter
from yure.safety_check import store
from yure.safety_check.accounts import Accounts
from yure.safety_check.bus import BUS_BLOCK_S, InboxBus
from yure.safety_check.checkins import Checkins
from yure.safety_check.config import Clock, SafetyConfig
from yure.safety_check.events import CurrentEvents
from yure.safety_check.felt_store import FeltReports
from yure.safety_check.friends import Friends
from yure.safety_check.inbox import Inboxes
from yure.safety_check.limiter import Limiter
from yure.safety_check.network import Subjects
from yure.safety_check.posts import Locator, Posts
from yure.safety_check.recovery import RecoveryCodes
from yure.safety_check.seats import Seats
from yure.safety_check.sessions import Sessions
from yure.safety_check.throttle import GuessThrottle

log = logging.getLogger(__name__)

#: Redis operations the live viewers of one process run at once (issue 16: 10,000 viewers
#: on a handful of connections).
LIVE_REDIS_CONCURRENCY = 3


@dataclasses.dataclass(slots=True)
class Services:
    """Everything a safety-check route needs."""

    redis: store.Redis
    config: SafetyConfig
    clock: Clock
    locator: Locator
    public: Timeline
    accounts: Accounts
    sessions: Sessions
    inboxes: Inboxes
    friends: Friends
    events: CurrentEvents
    checkins: Checkins
    posts: Posts
    felt: FeltReports
    limiter: Limiter
    subjects: Subjects
    guesses: GuessThrottle
    seats: Seats
    recovery: RecoveryCodes
    #: How long one blocking inbox read of a live channel waits (seconds).
    live_block_s: float
    #: Wakes this process's live viewers when their inbox changes (one reader per process).
    bus: InboxBus
    #: Makes acknowledged check-ins wait for the replicas (YURE_REDIS_WAIT_REPLICAS).
    replicated: ReplicatedWriter | None = None
    #: Live viewers' Redis reads at once in this process (so they share a few connections).
    live_redis: asyncio.Semaphore = dataclasses.field(
        default_factory=lambda: asyncio.Semaphore(LIVE_REDIS_CONCURRENCY)
    )
    #: Open live channels of this process (bounded by ``config.max_live_connections``).
    live_connections: int = 0
    #: Open live WebSockets, closed with 1001 when the server shuts down.
    live_sockets: set[web.WebSocketResponse] = dataclasses.field(default_factory=set)


SERVICES = web.AppKey("safety_check.services", Services)


def build_services(
    redis: store.Redis,
    *,
    public: Timeline,
    config: SafetyConfig,
    clock: Clock,
    locator: Locator,
    address_secret: bytes,
    replicated: ReplicatedWriter | None = None,
) -> Services:
    """Wire the stores of one process around the app's one public timeline ``public``."""
    accounts = Accounts(redis, config=config, clock=clock)
    bus = InboxBus(
        redis,
        timeout_s=config.redis_timeout_s,
        block_s=live_block(BUS_BLOCK_S, store.read_timeout_s(redis)),
    )
    inboxes = Inboxes(redis, config=config, bus=bus)
    friends = Friends(redis, accounts=accounts, inboxes=inboxes, config=config, clock=clock)
    events = CurrentEvents(
        public, window_s=config.current_event_window_s, cache_s=config.current_event_cache_s
    )
    return Services(
        redis=redis,
        replicated=replicated,
        config=config,
        clock=clock,
        locator=locator,
        public=public,
        accounts=accounts,
        sessions=Sessions(redis, config=config, clock=clock),
        inboxes=inboxes,
        friends=friends,
        events=events,
        checkins=Checkins(
            redis, friends=friends, inboxes=inboxes, events=events, config=config, clock=clock
        ),
        posts=Posts(redis, timeline=public, locator=locator, config=config, clock=clock),
        felt=FeltReports(redis, timeline=public, events=events, config=config, clock=clock),
        limiter=Limiter(redis, clock=clock, timeout_s=config.redis_timeout_s),
        subjects=Subjects(address_secret),
        guesses=GuessThrottle(
            redis,
            clock=clock,
            timeout_s=config.redis_timeout_s,
            per_address=config.address_guesses,
            per_pair=config.pair_guesses,
        ),
        seats=Seats(
            redis,
            clock=clock,
            timeout_s=config.redis_timeout_s,
            max_per_account=config.max_live_per_account,
        ),
        recovery=RecoveryCodes(redis, config=config),
        live_block_s=live_block(config.live_block_s, store.read_timeout_s(redis)),
        bus=bus,
    )


#: A live channel's blocking read asks for at most this share of the read timeout.
LIVE_BLOCK_SHARE = 0.5


def live_block(wanted_s: float, read_timeout_s: float | None) -> float:
    """``wanted_s``, but at most half of the Redis client's read timeout (issue 10 #3: a
    block as long as the timeout ended every idle channel with a timeout error)."""
    if read_timeout_s is None:
        return wanted_s
    return min(wanted_s, read_timeout_s * LIVE_BLOCK_SHARE)


async def check_durability(redis: store.Redis, *, timeout_s: float) -> bool:
    """Warn unless Redis runs with ``appendonly yes`` and ``appendfsync always``, without
    which an acknowledged check-in may be lost on a Redis crash (docs/api.md, Durability).
    Returns whether both settings were confirmed."""
    try:
        appendonly = await store.call(redis.config_get("appendonly"), timeout_s)
        fsync = await store.call(redis.config_get("appendfsync"), timeout_s)
    except store.StoreError as err:
        log.warning("durability unknown: CONFIG GET failed error=%s", err)
        return False
    only = {store.text(k): store.text(v) for k, v in dict(appendonly).items()}.get("appendonly")
    sync = {store.text(k): store.text(v) for k, v in dict(fsync).items()}.get("appendfsync")
    if only != "yes" or sync != "always":
        log.warning(
            "redis is not durable appendonly=%s appendfsync=%s: acknowledged check-ins may be "
            "lost if redis crashes; run it with appendonly yes and appendfsync always",
            only,
            sync,
        )
        return False
    return True
