"""Helpers shared by the test packages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from yure.ingest.event import Event, InfoType, Kind, Status, event_to_json


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[web.AppRunner]:
    """Serve ``app`` on 127.0.0.1 at a free port until the block ends; the runner's
    ``addresses[0][1]`` is the port (see :func:`base_url`)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield runner
    finally:
        await runner.cleanup()


def base_url(runner: web.AppRunner) -> str:
    """``http://127.0.0.1:<port>`` of a runner started by :func:`serving`."""
    return f"http://127.0.0.1:{runner.addresses[0][1]}"


def event_json(
    *,
    kind: Kind = Kind.QUAKE,
    event_id: str = "20240101161010",
    reported_at: datetime | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """The wire JSON (``event_to_json``) of an official event; ``fields`` set any other
    :class:`Event` field (``info_type=InfoType.CANCELLED``, ``title=...``)."""
    event = Event(
        type_code=fields.pop("type_code", "VXSE53"),
        kind=kind,
        status=fields.pop("status", Status.ACTUAL),
        info_type=fields.pop("info_type", InfoType.ISSUED),
        event_id=event_id,
        serial=fields.pop("serial", 1),
        reported_at=reported_at or datetime(2024, 1, 1, 16, 10, tzinfo=UTC),
        title=fields.pop("title", "震源・震度情報"),
        headline=fields.pop("headline", ""),
        **fields,
    )
    return event_to_json(event)
