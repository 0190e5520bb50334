"""Typed keys of the objects ``build_app`` shares on the aiohttp application."""

from __future__ import annotations

from aiohttp import web
from redis.asyncio import Redis

from yure.broadcast.hub import Hub
from yure.broadcast.metrics import Metrics
from yure.broadcast.timeline import Timeline
from yure.settings import Settings
from yure.web.connections import ConnectionGuard

SETTINGS = web.AppKey("yure.settings", Settings)
REDIS = web.AppKey("yure.redis", Redis)
#: The public timeline (``yure:timeline``).
TIMELINE = web.AppKey("yure.timeline", Timeline)
HUB = web.AppKey("yure.hub", Hub)
METRICS = web.AppKey("yure.metrics", Metrics)
#: Closes connections that send no complete request in time (slowloris).
GUARD = web.AppKey("yure.guard", ConnectionGuard)
