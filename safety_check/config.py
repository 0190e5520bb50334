"""Tunables of the safety check, with production defaults (pure values).

:func:`safety_check.http.setup` builds :class:`SafetyConfig` from :class:`yure.settings.Settings`
(``from_settings``); tests pass their own with short TTLs and cheap argon2 parameters.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable

from yure.safety_check.felt import FELT_GAP_S, FELT_PUBLISH_INTERVAL_S
from yure.safety_check.guesses import ADDRESS_GUESSES, PAIR_GUESSES, GuessPolicy
from yure.safety_check.ratelimit import Limit
from yure.settings import Settings

#: Wall-clock seconds; injectable so tests can move time.
Clock = Callable[[], float]
DAY_S = 24 * 3600
#: argon2id lanes (RFC 9106 §4, second recommended option).
ARGON2_PARALLELISM = 4
#: An invite link works once, for this long (then Redis drops it).
INVITE_TTL_S = 7 * DAY_S

# Default rate limits (name, requests, window seconds): module constants because a
# dataclass default must not be a call (ruff RUF009).
#: Sign-ups per network (IPv4 /24, IPv6 /64): shelters share one, so not very tight.
ACCOUNT_NET = Limit("account_net", 20, 3600)
#: Login and recovery tries per client address, whatever their outcome: caps floods (the
#: wrong ones also meet growing delays, safety_check.guesses).
LOGIN_IP = Limit("login_ip", 30, 300)
CHECKIN_USER = Limit("checkin_user", 20, 60)
FRIEND_USER = Limit("friend_user", 60, 3600)
INVITE_USER = Limit("invite_user", 20, 3600)
RECOVERY_CODES_USER = Limit("recovery_codes_user", 10, 3600)
POST_USER = Limit("post_user", 5, 60)
POST_IP = Limit("post_ip", 30, 60)
REPORT_USER = Limit("report_user", 30, 3600)
FELT_USER = Limit("felt_user", 3, 60)
FELT_IP = Limit("felt_ip", 120, 60)


def system_clock() -> float:
    """``time.time()``: the production clock."""
    return time.time()


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    """Every rate limit of the API, per account (``*_user``), per client address
    (``*_ip``: IPv4 address, IPv6 /64) or per network (``*_net``: IPv4 /24, IPv6 /64).
    Wrong passwords are also throttled by :mod:`.guesses`, per address only, so nobody
    can lock an owner out from elsewhere.

    Per-IP limits are loose: after a quake many people share one address (shelter Wi-Fi,
    carrier-grade NAT), and a tight per-IP cap would refuse them. Per-account limits carry
    the weight."""

    account_net: Limit = ACCOUNT_NET
    login_ip: Limit = LOGIN_IP
    checkin_user: Limit = CHECKIN_USER
    friend_user: Limit = FRIEND_USER
    invite_user: Limit = INVITE_USER
    recovery_codes_user: Limit = RECOVERY_CODES_USER
    post_user: Limit = POST_USER
    post_ip: Limit = POST_IP
    report_user: Limit = REPORT_USER
    felt_user: Limit = FELT_USER
    felt_ip: Limit = FELT_IP


@dataclasses.dataclass(frozen=True, slots=True)
class SafetyConfig:
    """Lifetimes, caps and costs of the safety check."""

    session_ttl_s: int = 30 * DAY_S
    #: A check-in is deleted this long after its event (Redis expiry, not a flag).
    checkin_ttl_s: int = 7 * DAY_S
    invite_ttl_s: float = INVITE_TTL_S
    #: How long an Idempotency-Key is remembered when its check-in is gone sooner.
    idempotency_ttl_s: int = DAY_S
    #: Retention of each user's private inbox stream (notifications only, no content).
    inbox_retention_s: int = DAY_S
    #: Retention of the public timeline; posts and their report sets live as long.
    public_retention_s: int = 48 * 3600
    #: Distinct reporting accounts that hide a post.
    post_hide_reports: int = 3
    #: An official quake/tsunami is "the current event" for this long after it was issued.
    current_event_window_s: int = DAY_S
    #: The current event is looked up at most once per this many seconds per process.
    current_event_cache_s: float = 1.0
    felt_gap_s: float = FELT_GAP_S
    felt_publish_interval_s: float = FELT_PUBLISH_INTERVAL_S
    felt_flush_every_s: float = 1.0
    max_friends: int = 500
    max_pending_requests: int = 200
    max_checkins_per_user: int = 50
    #: argon2id cost (RFC 9106 §4 second recommended option: t=3, m=64 MiB, p=4).
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 64 * 1024
    argon2_parallelism: int = ARGON2_PARALLELISM
    #: Concurrent argon2 computations per process; more wait (bounds memory: 64 MiB each).
    #: Production: one per ``argon2_parallelism`` CPUs (each hash already runs that many
    #: lanes in threads), so a waiting login is not slowed by sharing cores.
    argon2_concurrency: int = 1
    #: Hashes waiting for a slot, in all (more: 503) and per client address (more: 429).
    hash_max_waiting: int = 64
    hash_max_waiting_per_address: int = 4
    #: Delays after wrong passwords (safety_check.guesses).
    address_guesses: GuessPolicy = ADDRESS_GUESSES
    pair_guesses: GuessPolicy = PAIR_GUESSES
    redis_timeout_s: float = 5.0
    #: Live channel: how long one blocking inbox read waits before re-checking the session
    #: (at most half the Redis client's read timeout, whatever this says).
    live_block_s: float = 2.0
    #: An idle live channel sends a heartbeat this often (and renews its seat).
    live_heartbeat_s: float = 15.0
    #: Live channels one account may hold open at once, over all worker processes.
    max_live_per_account: int = 5
    live_auth_timeout_s: float = 10.0
    #: Live channels of one process at most (more: 503). Issue 16 asks for 10,000 viewers
    #: on one worker; the rest is headroom under the 20,000 open files of a process.
    max_live_connections: int = 12_000
    limits: Limits = dataclasses.field(default_factory=Limits)

    @classmethod
    def from_settings(cls, settings: Settings) -> SafetyConfig:
        """Production config, with retention taken from ``settings``."""
        return cls(
            argon2_concurrency=max(1, (os.cpu_count() or 1) // ARGON2_PARALLELISM),
            checkin_ttl_s=settings.checkin_ttl_s,
            public_retention_s=settings.retention_s,
        )
