"""Issue 12's new event fields travel unchanged: parsed telegram → ingest's publication sink
→ timeline → ``/api/timeline`` and ``/sse``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import orjson

from tests.broadcast.support import running_server
from tests.web.test_app_http import LIMITS, sse_messages
from yure.broadcast.metrics import Metrics
from yure.ingest.event import event_to_json
from yure.ingest.ledger import Publication
from yure.ingest.publish import publication_sink
from yure.ingest.telegram import parse_telegram

FIXTURES = Path(__file__).resolve().parents[1] / "ingest" / "fixtures"
DETAIL_KEYS = ("tsunami", "tsunami_observations", "tsunami_estimates", "stations",
               "max_lg_intensity", "lg_intensity")  # fmt: skip


async def test_new_fields_reach_the_api_and_the_stream_unchanged(
    redis_url: str, tmp_path: Path
) -> None:
    event = parse_telegram((FIXTURES / "VTSE51_arrivals.xml").read_bytes())
    expected = orjson.loads(orjson.dumps(event_to_json(event)))
    assert expected["tsunami"][1]["arrival_condition"] == "ただちに津波来襲と予測"
    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        sink = publication_sink(server.timeline, Metrics())
        await sink(Publication(key="vtse51", replaces=None, event=event))
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{server.base}/api/timeline?prefs=03&limit=5") as resp:
                body: dict[str, Any] = await resp.json()
            (item,) = body["items"]
            for key in DETAIL_KEYS:
                assert item["event"][key] == expected[key], key
            async with http.get(f"{server.base}/sse?prefs=03&since=0") as resp:
                ((_, message),) = await sse_messages(resp)
    for key in DETAIL_KEYS:
        assert message["event"][key] == expected[key], key
