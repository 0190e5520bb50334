"""/metrics and the details of /healthz are not public (issue 10 #9): a client elsewhere
gets only ok / not ok from /healthz and a 401 from /metrics, unless it sends the bearer
token of YURE_METRICS_TOKEN; this machine's own clients (loopback, e.g. Prometheus on
the host) see everything.

A client "elsewhere" is made the way production sees one behind a reverse proxy: the
proxy (127.0.0.1, trusted) forwards the client's address in X-Forwarded-For."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.broadcast.support import running_server
from yure.forwarded import parse_networks

TOKEN = "m" * 40
REMOTE = {"X-Forwarded-For": "203.0.113.9"}


async def test_remote_clients_see_only_ok(redis_url: str, tmp_path: Path) -> None:
    """Regression: /metrics and pid, connections, position in /healthz were public."""
    trusted = parse_networks("127.0.0.1")
    async with (
        running_server(redis_url, tmp_path, trusted_proxies=trusted, metrics_token=TOKEN) as server,
        aiohttp.ClientSession() as http,
    ):
        async with http.get(f"{server.base}/healthz", headers=REMOTE) as resp:
            assert resp.status == 200
            assert await resp.json() == {"status": "ok"}
        async with http.get(f"{server.base}/metrics", headers=REMOTE) as resp:
            assert resp.status == 401
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")
            assert "yure_" not in await resp.text()
        wrong = {**REMOTE, "Authorization": "Bearer " + "x" * 40}
        async with http.get(f"{server.base}/metrics", headers=wrong) as resp:
            assert resp.status == 401
        good = {**REMOTE, "Authorization": f"Bearer {TOKEN}"}
        async with http.get(f"{server.base}/metrics", headers=good) as resp:
            assert resp.status == 200 and "yure_stream_connections" in await resp.text()
        async with http.get(f"{server.base}/healthz", headers=good) as resp:
            body = await resp.json()
            assert body["status"] == "ok" and "pid" in body and "connections" in body
        # This machine's own client (no forwarded address) sees the details.
        async with http.get(f"{server.base}/healthz") as resp:
            assert "connections" in await resp.json()


async def test_without_a_token_only_this_machine_sees_metrics(
    redis_url: str, tmp_path: Path
) -> None:
    trusted = parse_networks("127.0.0.1")
    async with (
        running_server(redis_url, tmp_path, trusted_proxies=trusted) as server,
        aiohttp.ClientSession() as http,
    ):
        async with http.get(f"{server.base}/metrics", headers=REMOTE) as resp:
            assert resp.status == 401
        async with http.get(f"{server.base}/metrics") as resp:
            assert resp.status == 200
