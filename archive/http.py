"""HTTP routes of the history archive (docs/api.md, "History").

| route | what |
| --- | --- |
| ``GET /api/history?…`` | a page of event summaries, newest first, and ``next`` |
| ``GET /api/history/days?…`` | how many events per JST day, for the same filters |
| ``GET /api/history/{event_id}`` | one event with all its telegrams (404 if unknown) |
| ``GET /api/history.csv?…`` | every match as CSV, streamed, at most MAX_EXPORT_ROWS |
| ``GET /api/history.geojson?…`` | every match as a GeoJSON FeatureCollection, same cap |

Thin aiohttp handlers: parse the filters (:mod:`archive.query`), ask the
:class:`~archive.store.Archive`, answer with :mod:`archive.wire`. Bad filters raise
:class:`~archive.errors.QueryError` (400), an unknown event
:class:`~archive.errors.UnknownEvent` (404), a failed database
:class:`~archive.errors.StorageError` (503); the app's one error middleware
(``web.problems``) answers them as problem details.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from yure.archive import wire
from yure.archive.errors import QueryError
from yure.archive.facts import EventSummary
from yure.archive.query import (
    MAX_PAGE_ITEMS,
    HistoryQuery,
    PrefResolver,
    check_event_id,
    encode_cursor,
    parse_query,
)
from yure.archive.store import Archive
from yure.settings import Settings

log = logging.getLogger(__name__)

ARCHIVE = web.AppKey("archive", Archive)
#: Rows one CSV / GeoJSON export carries at most (narrow the filters for more).
MAX_EXPORT_ROWS = 50_000
#: Summaries written to the socket per chunk while exporting.
EXPORT_CHUNK_ROWS = 250
#: Browsers and proxies may keep a page of history this long.
CACHE_HISTORY = "public, max-age=10"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _params(request: web.Request) -> dict[str, str]:
    params: dict[str, str] = {}
    for name in request.query:
        values = request.query.getall(name)
        if len(values) > 1:
            raise QueryError(f"{name}: given {len(values)} times")
        params[name] = values[0]
    return params


class HistoryApi:
    """The routes, over one archive and one prefecture resolver."""

    def __init__(self, resolve: PrefResolver) -> None:
        self.resolve = resolve

    def _query(self, request: web.Request, *, max_items: int = MAX_PAGE_ITEMS) -> HistoryQuery:
        return parse_query(_params(request), self.resolve, max_items=max_items)

    async def page(self, request: web.Request) -> web.StreamResponse:
        """``GET /api/history``."""
        query = self._query(request)
        found = await request.app[ARCHIVE].search(query)
        token = None if found.next is None else encode_cursor(found.next)
        return _json(wire.page_json(found.items, token))

    async def days(self, request: web.Request) -> web.StreamResponse:
        """``GET /api/history/days``."""
        query = self._query(request)
        return _json(wire.days_json(await request.app[ARCHIVE].count_per_day(query)))

    async def event(self, request: web.Request) -> web.StreamResponse:
        """``GET /api/history/{event_id}``."""
        event_id = check_event_id(request.match_info["event_id"])
        record = await request.app[ARCHIVE].event(event_id)
        return _json(wire.record_json(record))

    async def csv(self, request: web.Request) -> web.StreamResponse:
        """``GET /api/history.csv``."""
        query = self._export_query(request)
        response = await self._start(request, "text/csv; charset=utf-8", "history.csv")
        await response.write(wire.csv_header().encode())
        async for chunk in _chunks(request.app[ARCHIVE], query):
            await response.write(wire.csv_rows(chunk).encode())
        await response.write_eof()
        return response

    async def geojson(self, request: web.Request) -> web.StreamResponse:
        """``GET /api/history.geojson``."""
        query = self._export_query(request)
        response = await self._start(request, "application/geo+json", "history.geojson")
        await response.write(wire.GEOJSON_OPEN)
        first = True
        async for chunk in _chunks(request.app[ARCHIVE], query):
            features = b",".join(wire.geojson_feature(s) for s in chunk)
            await response.write(features if first else b"," + features)
            first = False
        await response.write(wire.GEOJSON_CLOSE)
        await response.write_eof()
        return response

    def _export_query(self, request: web.Request) -> HistoryQuery:
        query = self._query(request, max_items=MAX_EXPORT_ROWS)
        if "limit" not in request.query:
            query = dataclasses.replace(query, limit=MAX_EXPORT_ROWS)
        return query

    async def _start(
        self, request: web.Request, content_type: str, filename: str
    ) -> web.StreamResponse:
        # The first page is read before the headers go out, so a dead database is still
        # a 503 and not a truncated 200.
        await request.app[ARCHIVE].search(HistoryQuery(limit=1))
        response = web.StreamResponse(
            headers={
                "Content-Type": content_type,
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": CACHE_HISTORY,
                "X-Row-Cap": str(MAX_EXPORT_ROWS),
            }
        )
        await response.prepare(request)
        return response


async def _chunks(archive: Archive, query: HistoryQuery) -> AsyncIterator[list[EventSummary]]:
    chunk: list[EventSummary] = []
    async for summary in archive.export(query, max_rows=query.limit):
        chunk.append(summary)
        if len(chunk) >= EXPORT_CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _json(body: bytes) -> web.Response:
    return web.Response(
        body=body,
        content_type="application/json",
        headers={"Cache-Control": CACHE_HISTORY},
    )


def setup(app: web.Application, *, settings: Settings, resolve: PrefResolver) -> None:
    """Open the archive with the app (``app[ARCHIVE]``) and register the routes.

    Raises (at start-up):
        StorageError: the database cannot be opened or has a newer schema.
    """

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        archive = await Archive.open(settings.database_url, settings.data_dir)
        app[ARCHIVE] = archive
        log.info("archive open database=%s", archive.database.name)
        try:
            yield
        finally:
            await archive.close()

    app.cleanup_ctx.append(lifetime)
    api = HistoryApi(resolve)
    app.router.add_get("/api/history", api.page)
    app.router.add_get("/api/history.csv", api.csv)
    app.router.add_get("/api/history.geojson", api.geojson)
    app.router.add_get("/api/history/days", api.days)
    app.router.add_get("/api/history/{event_id}", api.event)
