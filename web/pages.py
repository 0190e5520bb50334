"""Routes of the pages: live map, check-in page, embed (filled in by the web work)."""

from __future__ import annotations

from aiohttp import web

from yure.settings import Settings


def setup(app: web.Application, *, settings: Settings) -> None:
    """Register the page and static-file routes on ``app``."""
