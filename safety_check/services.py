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
from yure.safety_check.live_reader import LiveReader
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
#: ``CLIENT SETNAME`` of the live viewers' connections and of the inbox bus's reader.
LIVE_CLIENT = "yure-live"
BUS_CLIENT = "yure-inbox-bus"
#: Inbox notifications one live read fetches at most.
LIVE_BATCH_ENTRIES = 100


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
    #: Reads for every live viewer of this process, batched (one reader per process).
    reader: LiveReader
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
    #: The same services with the stores the live channels use: on the live viewers' own
    #: client (:data:`LIVE_CLIENT`), so they share its few connections.
    live_view: Services | None = None
    #: Clients made here (the live viewers', the bus's), closed with the app.
    own_clients: tuple[store.Redis, ...] = ()


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
    # The live viewers' reads and the bus's blocking read have clients of their own (on a
    # single server): a handful of named connections however many viewers are open.
    live_redis = store.sibling(redis, max_connections=LIVE_REDIS_CONCURRENCY, name=LIVE_CLIENT)
    bus_redis = store.sibling(redis, max_connections=1, name=BUS_CLIENT)
    accounts = Accounts(redis, config=config, clock=clock)
    bus = InboxBus(
        redis,
        timeout_s=config.redis_timeout_s,
        block_s=live_block(BUS_BLOCK_S, store.read_timeout_s(redis)),
        listener=bus_redis,
    )
    inboxes = Inboxes(redis, config=config, bus=bus)
    friends = Friends(redis, accounts=accounts, inboxes=inboxes, config=config, clock=clock)
    events = CurrentEvents(
        public, window_s=config.current_event_window_s, cache_s=config.current_event_cache_s
    )
    sessions = Sessions(redis, config=config, clock=clock)
    checkins = Checkins(
        redis, friends=friends, inboxes=inboxes, events=events, config=config, clock=clock
    )
    live_gate = asyncio.Semaphore(LIVE_REDIS_CONCURRENCY)
    live_block_s = live_block(config.live_block_s, store.read_timeout_s(redis))
    live = _LiveStores.on(live_redis, bus=bus, events=events, config=config, clock=clock)
    reader = LiveReader(
        sessions=live.sessions,
        inboxes=live.inboxes,
        checkins=live.checkins,
        friends=live.friends,
        accounts=live.accounts,
        seats=live.seats,
        gate=live_gate,
        timeout_s=config.redis_timeout_s,
        entries_per_read=LIVE_BATCH_ENTRIES,
        session_check_s=live_block_s,
    )
    services = Services(
        redis=redis,
        replicated=replicated,
        config=config,
        clock=clock,
        locator=locator,
        public=public,
        accounts=accounts,
        sessions=sessions,
        inboxes=inboxes,
        friends=friends,
        events=events,
        checkins=checkins,
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
        live_block_s=live_block_s,
        bus=bus,
        reader=reader,
        live_redis=live_gate,
        own_clients=tuple({id(c): c for c in (live_redis, bus_redis) if c is not redis}.values()),
    )
    services.live_view = dataclasses.replace(
        services,
        redis=live_redis,
        accounts=live.accounts,
        sessions=live.sessions,
        inboxes=live.inboxes,
        friends=live.friends,
        checkins=live.checkins,
        seats=live.seats,
    )
    return services


@dataclasses.dataclass(frozen=True, slots=True)
class _LiveStores:
    """The stores the live channels read through (on the live viewers' own client)."""

    accounts: Accounts
    sessions: Sessions
    inboxes: Inboxes
    friends: Friends
    checkins: Checkins
    seats: Seats

    @classmethod
    def on(
        cls,
        redis: store.Redis,
        *,
        bus: InboxBus,
        events: CurrentEvents,
        config: SafetyConfig,
        clock: Clock,
    ) -> _LiveStores:
        accounts = Accounts(redis, config=config, clock=clock)
        inboxes = Inboxes(redis, config=config, bus=bus)
        friends = Friends(redis, accounts=accounts, inboxes=inboxes, config=config, clock=clock)
        return cls(
            accounts=accounts,
            sessions=Sessions(redis, config=config, clock=clock),
            inboxes=inboxes,
            friends=friends,
            checkins=Checkins(
                redis, friends=friends, inboxes=inboxes, events=events, config=config, clock=clock
            ),
            seats=Seats(
                redis,
                clock=clock,
                timeout_s=config.redis_timeout_s,
                max_per_account=config.max_live_per_account,
            ),
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
