"""HTTP routes of the safety check (filled in by the safety-check work)."""

from __future__ import annotations

from aiohttp import web
from redis.asyncio import Redis

from yure.settings import Settings


def setup(app: web.Application, *, redis: Redis, settings: Settings) -> None:
    """Register the safety-check API routes on ``app``."""
