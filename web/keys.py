"""Typed keys of the objects ``build_app`` shares on the aiohttp application."""

from __future__ import annotations

from aiohttp import web
from redis.asyncio import Redis

from broadcast.filter import PrefResolver
from broadcast.hub import Hub
from broadcast.limits import Limits
from broadcast.metrics import Metrics
from broadcast.timeline import Timeline
from yure.settings import Settings

SETTINGS = web.AppKey("yure.settings", Settings)
REDIS = web.AppKey("yure.redis", Redis)
#: The public timeline (``yure:timeline``).
TIMELINE = web.AppKey("yure.timeline", Timeline)
HUB = web.AppKey("yure.hub", Hub)
METRICS = web.AppKey("yure.metrics", Metrics)
LIMITS = web.AppKey("yure.limits", Limits)
#: Turns "13", "東京", "kanto" into prefecture codes (geo.codes, wrapped for broadcast).
PREF_RESOLVER: web.AppKey[PrefResolver] = web.AppKey("yure.pref_resolver")
