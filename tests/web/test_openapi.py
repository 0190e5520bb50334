"""The API described: /openapi.json documents every route, docs/ holds the same document
and the stream messages' JSON Schemas, and what the server sends validates against them.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import redis.asyncio
from jsonschema import Draft202012Validator
from websockets.asyncio.client import connect

from tests.broadcast.support import WAIT_S, running_server, subscribe
from tests.redis_server import RedisProcess
from tests.support import event_json
from yure.broadcast.envelope import Envelope
from yure.broadcast.limits import Limits
from yure.settings import Settings
from yure.web.app import build_app
from yure.web.openapi import PATHS, document, render, standalone
from yure.web.schemas import STREAM_MESSAGES

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
REGENERATE = "python -m yure.web.openapi docs"
#: Heartbeats every 0.2 s, and two events per coalesced frame at most.
LIMITS = Limits(heartbeat_interval_s=0.2, max_events_per_frame=2)
#: The Schemathesis run's time budget (its own --max-time) and examples per operation.
SCHEMATHESIS_MAX_TIME_S = 30
SCHEMATHESIS_MAX_EXAMPLES = 3


def validator(name: str) -> Draft202012Validator:
    """The committed docs/schemas/<name>.json as a validator."""
    schema = json.loads((DOCS / "schemas" / f"{name}.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


VALIDATORS = {name: validator(name) for name in STREAM_MESSAGES}


def check_message(message: dict[str, Any], prefix: str = "") -> str:
    """Validate one stream message against its schema; return the schema's name."""
    name = prefix + str(message["type"])
    errors = [e.message for e in VALIDATORS[name].iter_errors(message)]
    assert errors == [], f"{name}: {errors} in {message}"
    return name


def test_docs_are_the_document_the_code_builds() -> None:
    assert (DOCS / "openapi.json").read_bytes() == render(document()), (
        f"docs/openapi.json is stale: run `{REGENERATE}`"
    )
    files = {p.stem for p in (DOCS / "schemas").glob("*.json")}
    assert files == set(STREAM_MESSAGES), f"docs/schemas/ is stale: run `{REGENERATE}`"
    for name in STREAM_MESSAGES:
        assert (DOCS / "schemas" / f"{name}.json").read_bytes() == render(standalone(name)), (
            f"docs/schemas/{name}.json is stale: run `{REGENERATE}`"
        )


def test_document_is_openapi_31_with_valid_schemas() -> None:
    doc = document()
    assert doc["openapi"] == "3.1.0"
    for name, schema in doc["components"]["schemas"].items():
        assert isinstance(name, str)
        Draft202012Validator.check_schema(schema)
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            assert "default" in op["responses"], f"{method} {path}"
            for param in op.get("parameters", []):
                if param["in"] == "path":
                    assert f"{{{param['name']}}}" in path


def test_every_route_is_documented(tmp_path: Path) -> None:
    """Fails naming each route of the real app that /openapi.json lacks (and each
    documented route the app no longer has)."""
    app = build_app(
        Settings(redis_url="redis://127.0.0.1:1", data_dir=tmp_path, ingest_enabled=False),
        redis.asyncio.Redis(),
    )
    routes = set()
    for route in app.router.routes():
        if route.method == "HEAD" or route.resource is None:
            continue
        routes.add((route.method.lower(), route.resource.canonical))
    documented = {(m, path) for path, ops in PATHS.items() for m in ops}
    missing = sorted(routes - documented)
    assert not missing, (
        "routes missing from the OpenAPI document: "
        + ", ".join(f"{m.upper()} {p}" for m, p in missing)
        + ". Add each to PATHS in web/openapi.py, e.g. "
        + 'PATHS["/api/x"] = {"get": operation("what it does", "tag", '
        + '{"200": json_response("what", "SchemaName")})} with its schema in '
        + f"web/schemas.py BODIES, then run `{REGENERATE}`."
    )
    stale = sorted(documented - routes)
    assert not stale, (
        f"documented but not served: {stale}; remove them from PATHS in web/openapi.py"
    )


async def test_served_document_equals_docs(redis_url: str, tmp_path: Path) -> None:
    async with (
        running_server(redis_url, tmp_path) as server,
        aiohttp.ClientSession() as http,
        http.get(f"{server.base}/openapi.json") as resp,
    ):
        assert resp.status == 200
        assert resp.content_type == "application/json"
        body = await resp.read()
    assert body == (DOCS / "openapi.json").read_bytes()


async def test_ws_and_sse_messages_validate(redis_url: str, tmp_path: Path) -> None:
    seen: set[str] = set()
    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        tl = server.timeline
        for seq in range(2):  # entries older than retention: trimmed, a floor remains
            fields = {"k": f"gone{seq}", "t": "quake", "p": "13", "d": "{}"}
            await server.redis.xadd(tl.stream_key, fields, id=f"1000-{seq}")  # type: ignore[arg-type]
        ids = []
        for i in range(3):
            payload = orjson.dumps(event_json(event_id=f"2024010116101{i}"))
            ids.append(await tl.append(Envelope(f"k{i}", "quake", ("13",), payload)))
        async with connect(server.ws_url) as ws:
            await ws.send(subscribe(prefs=["13"], since="1000-0"))
            async with asyncio.timeout(WAIT_S):
                while not {"cursor_expired", "events", "event", "ready", "heartbeat"} <= seen:
                    seen.add(check_message(orjson.loads(await ws.recv())))
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{server.base}/sse?prefs=13&since={ids[0]}") as resp,
        ):
            sse: set[str] = set()
            async with asyncio.timeout(WAIT_S):
                while not {"event", "ready", "heartbeat"} <= sse:
                    line = (await resp.content.readline()).decode()
                    if line.startswith("data: "):
                        sse.add(check_message(orjson.loads(line[6:])))
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{server.base}/api/timeline?prefs=13") as resp,
        ):
            page = await resp.json()
    assert list(Draft202012Validator(standalone("TimelinePage")).iter_errors(page)) == []


async def test_live_channel_messages_validate(redis_url: str, tmp_path: Path) -> None:
    async with running_server(redis_url, tmp_path) as server, aiohttp.ClientSession() as http:
        tokens = []
        for handle in ("livea", "liveb"):
            async with http.post(
                f"{server.base}/api/accounts", json={"handle": handle, "password": "pw-long-1"}
            ) as resp:
                assert resp.status == 201
                tokens.append((await resp.json())["token"])
        a, b = ({"Authorization": f"Bearer {t}"} for t in tokens)
        seen: set[str] = set()
        live = server.ws_url.replace("/ws", "/api/live")
        async with connect(live, additional_headers=a) as ws:

            async def expect(kind: str) -> None:
                async with asyncio.timeout(WAIT_S):
                    while True:
                        name = check_message(orjson.loads(await ws.recv()), "live_")
                        seen.add(name)
                        if name == f"live_{kind}":
                            return

            await expect("snapshot")
            async with http.post(f"{server.base}/api/invites", headers=a) as resp:
                token = (await resp.json())["token"]
            async with http.post(
                f"{server.base}/api/invites/accept", json={"token": token}, headers=b
            ) as resp:
                assert resp.status == 200
            await expect("friend_added")
            async with http.post(
                f"{server.base}/api/checkins", json={"status": "safe"}, headers=b
            ) as resp:
                checkin = await resp.json()
            await expect("checkin")
            async with http.delete(f"{server.base}/api/checkins/{checkin['id']}", headers=b):
                pass
            await expect("checkin_deleted")
            async with http.delete(f"{server.base}/api/friends/liveb", headers=a):
                pass
            await expect("friend_removed")
    assert {"live_ready", "live_snapshot", "live_checkin", "live_friend_added"} <= seen


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    """Schemathesis (fuzzing, stateful links) against ``yure serve`` on a real Redis."""
    from tests.web.test_serve import Serve

    serve = Serve(tmp_path, REDIS_URL=redis_server.url)
    try:
        token = _sign_up(serve.base)
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("schemathesis")),
                "run",
                f"{serve.base}/openapi.json",
                "--checks",
                "not_a_server_error,response_schema_conformance,content_type_conformance,"
                "status_code_conformance",
                "--max-examples",
                str(SCHEMATHESIS_MAX_EXAMPLES),
                "--max-time",
                str(SCHEMATHESIS_MAX_TIME_S),
                "--seed",
                "1",
                "--no-shrink",
                "--request-timeout",
                "10",
                "--header",
                f"Authorization: Bearer {token}",
                # Streams never end; their messages are validated above.
                "--exclude-path",
                "/ws",
                "--exclude-path",
                "/sse",
                "--exclude-path",
                "/api/live",
                "--warnings",
                "off",
            ],
            capture_output=True,
            text=True,
            timeout=SCHEMATHESIS_MAX_TIME_S + 60,
            cwd=tmp_path,
        )
    finally:
        serve.stop()
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


def _sign_up(base: str) -> str:
    import urllib.request

    request = urllib.request.Request(
        f"{base}/api/accounts",
        data=json.dumps({"handle": "fuzzer", "password": "pw-long-enough"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=WAIT_S) as resp:
        token: str = json.loads(resp.read())["token"]
    return token
