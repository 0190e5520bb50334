"""``GET /api/timeline``: history as JSON (docs/protocol.md). Driver module.

``?prefs=&kinds=`` filter as on the streams; ``?since=<id>`` pages forward
(oldest first, ``next`` is the ``since`` of the following page); without
``since`` the newest ``limit`` matching entries are returned, oldest first.

A filter naming prefs and/or kinds is answered from the timeline's indexes (one
round trip, however rare the matches); the unfiltered stream and filters too wide
for the indexes are read directly, scanning at most ``API_MAX_SCAN_ENTRIES``.
"""

from __future__ import annotations

import logging

from aiohttp import web

from yure.broadcast.envelope import ZERO_ID, Entry, parse_stream_id
from yure.broadcast.errors import ProtocolError, TimelineError
from yure.broadcast.filter import Filter, PrefResolver, codes_as_given, parse_query, parse_since
from yure.broadcast.frames import event_message
from yure.broadcast.limits import (
    API_DEFAULT_LIMIT,
    API_MAX_LIMIT,
    API_MAX_SCAN_ENTRIES,
    MAX_QUERY_BYTES,
    READ_BATCH_ENTRIES,
)
from yure.broadcast.timeline import Timeline

log = logging.getLogger(__name__)


class TimelineApi:
    """The ``/api/timeline`` handler bound to one timeline."""

    def __init__(self, timeline: Timeline, *, resolve: PrefResolver = codes_as_given) -> None:
        self.timeline = timeline
        self.resolve = resolve

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one page of history.

        Raises:
            web.HTTPBadRequest: bad filter, cursor or limit.
            web.HTTPServiceUnavailable: Redis failed.
        """
        if len(request.query_string) > MAX_QUERY_BYTES:
            raise web.HTTPRequestURITooLong()
        query = request.query
        try:
            flt = parse_query(query.get("prefs"), query.get("kinds"), self.resolve)
            since = parse_since(query.get("since"))
            limit = _limit(query.get("limit"))
        except ProtocolError as err:
            raise web.HTTPBadRequest(text=f"{err}\n") from err
        try:
            if since is None:
                items, next_id = await self._newest(flt, limit)
                more = expired = False
            else:
                expired = await self.timeline.is_expired(since)
                items, next_id, more = await self._after(flt, since, limit)
        except TimelineError as err:
            log.warning("timeline api failed error=%s", err)
            raise web.HTTPServiceUnavailable(text="timeline unavailable\n") from err
        body = (
            b'{"items":['
            + b",".join(event_message(e) for e in items)
            + b'],"next":'
            + (b"null" if next_id is None else b'"' + next_id.encode() + b'"')
            + b',"more":'
            + (b"true" if more else b"false")
            + b',"cursor_expired":'
            + (b"true" if expired else b"false")
            + b"}"
        )
        return web.Response(body=body, content_type="application/json")

    async def _after(self, flt: Filter, since: str, limit: int) -> tuple[list[Entry], str, bool]:
        page = await self.timeline.read_matching(flt, limit=limit, after=since)
        if page is not None:
            if len(page.entries) >= limit:
                return page.entries, page.entries[-1].id, True
            newest = page.newest_id
            later = parse_stream_id(newest) > parse_stream_id(since)
            return page.entries, newest if later else since, False
        items: list[Entry] = []
        cursor = since
        scanned = 0
        while len(items) < limit and scanned < API_MAX_SCAN_ENTRIES:
            batch = await self.timeline.read_after(cursor, limit=READ_BATCH_ENTRIES)
            if not batch:
                return items, cursor, False
            looked, cursor = _take(batch, flt, items, limit)
            scanned += looked
        return items, cursor, True

    async def _newest(self, flt: Filter, limit: int) -> tuple[list[Entry], str | None]:
        page = await self.timeline.read_matching(flt, limit=limit)
        if page is not None:
            return page.entries[::-1], None if page.newest_id == ZERO_ID else page.newest_id
        found: list[Entry] = []
        before: str | None = None
        scanned = 0
        newest: str | None = None
        while len(found) < limit and scanned < API_MAX_SCAN_ENTRIES:
            batch = await self.timeline.read_before(before, limit=READ_BATCH_ENTRIES)
            if not batch:
                break
            if newest is None:
                newest = batch[0].id
            looked, before = _take(batch, flt, found, limit)
            scanned += looked
        found.reverse()
        # ``next`` continues forward from the newest entry looked at.
        return found, newest


def _take(batch: list[Entry], flt: Filter, found: list[Entry], limit: int) -> tuple[int, str]:
    """Append ``batch``'s matching entries to ``found`` until it holds ``limit``.

    Returns how many entries were looked at and the id of the last one.
    """
    for looked, entry in enumerate(batch, 1):
        if flt.matches(entry.kind, entry.prefs):
            found.append(entry)
            if len(found) >= limit:
                return looked, entry.id
    return len(batch), batch[-1].id


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return API_DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= API_MAX_LIMIT:
        raise ProtocolError(f"limit must be 1..{API_MAX_LIMIT}")
    return int(raw)
