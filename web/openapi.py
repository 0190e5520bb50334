"""The OpenAPI 3.1 document of every HTTP route, served at ``GET /openapi.json``.

The document is built here from :data:`PATHS` and the JSON Schemas of
:mod:`yure.web.schemas`; ``docs/openapi.json`` and ``docs/schemas/*.json`` are written
from it by ``python -m yure.web.openapi docs`` (tests fail when they differ from what
this module builds, or when the app has a route that :data:`PATHS` lacks).

A new route: add ``PATHS["/your/path"]["get"] = operation(...)`` below (the path as
aiohttp's router spells it, e.g. ``/api/posts/{id}``), then run the command above.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from yure import __version__
from yure.web.schemas import BODIES, REF, STREAM_MESSAGES, Schema, ref

JSON = "application/json"
PROBLEM = "application/problem+json"


def content(schema: Schema, media_type: str = JSON) -> Schema:
    return {media_type: {"schema": schema}}


def json_response(description: str, schema_name: str) -> Schema:
    return {"description": description, "content": content(ref(schema_name))}


def other_response(description: str, media_type: str) -> Schema:
    return {"description": description, "content": content({"type": "string"}, media_type)}


#: Any error of any route: RFC 9457 problem details (web.problems) — docs/api.md, "Errors".
ERRORS: Schema = {
    "description": "an error (4xx client, 5xx server): a problem details object",
    "content": {PROBLEM: {"schema": ref("Problem")}},
}
NO_CONTENT: Schema = {"description": "done"}


def operation(
    summary: str,
    tag: str,
    responses: dict[str, Schema],
    *,
    params: list[Schema] | None = None,
    body: str | None = None,
    auth: bool = False,
) -> Schema:
    """One operation; every operation also has the problem-details ``default`` answer."""
    op: Schema = {
        "summary": summary,
        "tags": [tag],
        "responses": {**responses, "default": ERRORS},
    }
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {"required": True, "content": content(ref(body))}
    if auth:
        op["security"] = [{"bearer": []}, {"cookie": []}]
    return op


def path_param(name: str, schema: Schema | None = None) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}}


def query(name: str, description: str, schema: Schema | None = None) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


PREFS_Q = query("prefs", "comma-separated prefecture codes or region names")
KINDS_Q = query("kinds", "comma-separated kinds (quake, eew, tsunami, notice, other, post, felt)")
SINCE_Q = query("since", "resume after this entry id")
LIVE = "live feed"
SAFETY = "safety check"
PAGES = "pages"
OPS = "operations"
STREAM_NOTE = (
    " Messages: see components/schemas (event, events, ready, heartbeat, cursor_expired) "
    "and docs/protocol.md."
)

PATHS: dict[str, dict[str, Schema]] = {
    "/ws": {
        "get": operation(
            "The live timeline over WebSocket (upgrade); send a subscribe message." + STREAM_NOTE,
            LIVE,
            {"101": {"description": "switching protocols"}},
        )
    },
    "/sse": {
        "get": operation(
            "The live timeline as Server-Sent Events; resumes after Last-Event-ID." + STREAM_NOTE,
            LIVE,
            {"200": other_response("the event stream", "text/event-stream")},
            params=[
                PREFS_Q,
                KINDS_Q,
                SINCE_Q,
                {"name": "Last-Event-ID", "in": "header", "schema": {"type": "string"}},
            ],
        )
    },
    "/api/timeline": {
        "get": operation(
            "A page of the timeline: the newest items, or those after since (oldest first).",
            LIVE,
            {"200": json_response("the page", "TimelinePage")},
            params=[
                PREFS_Q,
                KINDS_Q,
                SINCE_Q,
                query("limit", "items per page", {"type": "integer", "minimum": 1, "maximum": 500}),
            ],
        )
    },
    "/feeds/{pref}.atom": {
        "get": operation(
            "An Atom feed (RFC 4287) of the official items of one prefecture.",
            LIVE,
            {"200": other_response("the feed", "application/atom+xml")},
            params=[path_param("pref", {"type": "string", "pattern": "^[0-9]{2}$"})],
        )
    },
    "/lite": {
        "get": operation(
            "The newest official items as one small HTML page without JavaScript.",
            PAGES,
            {"200": other_response("the page", "text/html")},
            params=[query("prefs", "prefecture codes"), query("lang", "ja or en")],
        )
    },
    "/healthz": {
        "get": operation(
            "Liveness: this process and Redis work; the JMA feed's freshness.",
            OPS,
            {"200": json_response("healthy", "Health")},
        )
    },
    "/metrics": {
        "get": operation(
            "Prometheus metrics (text exposition format).",
            OPS,
            {"200": other_response("the metrics", "text/plain")},
        )
    },
    "/openapi.json": {
        "get": operation("This document.", OPS, {"200": other_response("OpenAPI 3.1", JSON)})
    },
    "/api/prefectures": {
        "get": operation(
            "Prefectures and regions (codes and names).",
            LIVE,
            {"200": json_response("the table", "Prefectures")},
        )
    },
    "/api/accounts": {
        "post": operation(
            "Create an account; signs in (token and cookie) and shows 10 recovery codes once.",
            SAFETY,
            {"201": json_response("created", "NewAccount")},
            body="Credentials",
        )
    },
    "/api/accounts/recover": {
        "post": operation(
            "Forgot the password: a recovery code sets a new one, ends every session, "
            "signs in and is burnt; wrong code or unknown handle: the same 401.",
            SAFETY,
            {"200": json_response("recovered", "Recovered")},
            body="RecoveryRequest",
        )
    },
    "/api/recovery-codes": {
        "post": operation(
            "A fresh set of 10 recovery codes; the old set stops working.",
            SAFETY,
            {"201": json_response("issued", "RecoveryCodes")},
            auth=True,
        )
    },
    "/api/sessions": {
        "post": operation(
            "Sign in (token and cookie).",
            SAFETY,
            {"200": json_response("signed in", "Session")},
            body="Credentials",
        )
    },
    "/api/sessions/current": {
        "get": operation(
            "Who is signed in.", SAFETY, {"200": json_response("you", "Handle")}, auth=True
        ),
        "delete": operation(
            "Sign out (revokes the token).", SAFETY, {"204": NO_CONTENT}, auth=True
        ),
    },
    "/api/friends": {
        "post": operation(
            "Ask a handle to be friends (mutual).",
            SAFETY,
            {"200": json_response("requested or friends", "FriendStatus")},
            body="HandleRequest",
            auth=True,
        ),
        "get": operation(
            "Friends and pending requests.",
            SAFETY,
            {"200": json_response("lists of handles", "Friends")},
            auth=True,
        ),
    },
    "/api/friends/{handle}": {
        "delete": operation(
            "End a friendship, withdraw or decline a request.",
            SAFETY,
            {"204": NO_CONTENT},
            params=[path_param("handle")],
            auth=True,
        )
    },
    "/api/invites": {
        "post": operation(
            "A single-use invite link.",
            SAFETY,
            {"201": json_response("the invite", "Invite")},
            auth=True,
        )
    },
    "/api/invites/preview": {
        "post": operation(
            "Who an invite is from (changes nothing).",
            SAFETY,
            {"200": json_response("the inviter", "Handle")},
            body="TokenRequest",
            auth=True,
        )
    },
    "/api/invites/accept": {
        "post": operation(
            "Accept an invite: become friends.",
            SAFETY,
            {"200": json_response("friends", "Befriended")},
            body="TokenRequest",
            auth=True,
        )
    },
    "/api/checkins": {
        "post": operation(
            "Check in (safe / need_help / unknown); only friends see it.",
            SAFETY,
            {"201": json_response("the check-in", "Checkin")},
            body="CheckinRequest",
            params=[{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}],
            auth=True,
        )
    },
    "/api/checkins/friends": {
        "get": operation(
            "Each friend's latest check-in.",
            SAFETY,
            {"200": json_response("check-ins", "FriendCheckins")},
            auth=True,
        )
    },
    "/api/checkins/mine": {
        "get": operation(
            "Your check-ins, newest first.",
            SAFETY,
            {"200": json_response("check-ins", "MyCheckins")},
            auth=True,
        )
    },
    "/api/checkins/{id}": {
        "delete": operation(
            "Delete one of your check-ins.",
            SAFETY,
            {"204": NO_CONTENT},
            params=[path_param("id")],
            auth=True,
        )
    },
    "/api/posts": {
        "post": operation(
            "Publish a short public post (anonymous, unverified).",
            SAFETY,
            {"201": json_response("the post", "Post")},
            body="PostRequest",
            auth=True,
        )
    },
    "/api/posts/{id}": {
        "get": operation(
            "One post.",
            SAFETY,
            {"200": json_response("the post", "Post")},
            params=[path_param("id")],
        )
    },
    "/api/posts/{id}/report": {
        "post": operation(
            "Report a post (three reports hide it).",
            SAFETY,
            {"202": json_response("reported", "Reported")},
            params=[path_param("id")],
            auth=True,
        )
    },
    "/api/felt": {
        "post": operation(
            "'揺れた': count a felt report for a prefecture or a point.",
            SAFETY,
            {"202": json_response("counted", "FeltCounted")},
            body="FeltRequest",
            auth=True,
        )
    },
    "/api/live": {
        "get": operation(
            "Friends' check-ins as they happen: WebSocket when upgraded, else SSE. Messages: "
            "components/schemas live_*.",
            SAFETY,
            {
                "101": {"description": "switching protocols"},
                "200": other_response("the event stream", "text/event-stream"),
            },
            auth=True,
        )
    },
    "/": {
        "get": operation(
            "The live map and timeline.", PAGES, {"200": other_response("page", "text/html")}
        )
    },
    "/safety": {
        "get": operation("The check-in page.", PAGES, {"200": other_response("page", "text/html")})
    },
    "/embed": {
        "get": operation(
            "The embeddable widget (in an iframe).",
            PAGES,
            {"200": other_response("page", "text/html")},
        )
    },
    "/embed/builder": {
        "get": operation(
            "Build the embed snippet.", PAGES, {"200": other_response("page", "text/html")}
        )
    },
    "/embed.js": {
        "get": operation(
            "The embed loader script.",
            PAGES,
            {"200": other_response("script", "text/javascript")},
        )
    },
    "/static/{name}": {
        "get": operation(
            "A static asset of the pages (CSS, JavaScript modules, icons).",
            PAGES,
            {"200": {"description": "the asset"}},
            params=[path_param("name")],
        )
    },
}


HISTORY = "history"
PUSH = "web push"
HISTORY_FILTERS = [
    PREFS_Q,
    KINDS_Q,
    query("from", "earliest time (ISO 8601 date or date-time)"),
    query("to", "latest time (ISO 8601 date or date-time)"),
    query("min_intensity", "1, 2, 3, 4, 5-, 5+, 6-, 6+ or 7"),
    query("min_magnitude", "a number", {"type": "number"}),
    query("max_depth_km", "a number", {"type": "number"}),
    query("limit", "items at most", {"type": "integer", "minimum": 1}),
    query("cursor", "the next token of the previous page"),
]
SUBSCRIPTION_ID = [path_param("id")]
PATHS.update(
    {
        "/api/history": {
            "get": operation(
                "Past events from the archive, newest first, filtered, with a cursor.",
                HISTORY,
                {"200": json_response("a page", "HistoryPage")},
                params=HISTORY_FILTERS,
            )
        },
        "/api/history.csv": {
            "get": operation(
                "Every matching event as CSV.",
                HISTORY,
                {"200": other_response("CSV", "text/csv")},
                params=HISTORY_FILTERS,
            )
        },
        "/api/history.geojson": {
            "get": operation(
                "Every matching event as a GeoJSON FeatureCollection.",
                HISTORY,
                {
                    "200": {
                        "description": "GeoJSON (RFC 7946)",
                        "content": content(ref("FeatureCollection"), "application/geo+json"),
                    }
                },
                params=HISTORY_FILTERS,
            )
        },
        "/api/history/days": {
            "get": operation(
                "Matching events per day.",
                HISTORY,
                {"200": json_response("counts", "HistoryDays")},
                params=HISTORY_FILTERS,
            )
        },
        "/api/history/{event_id}": {
            "get": operation(
                "One archived event with all its telegrams.",
                HISTORY,
                {"200": json_response("the event", "HistoryRecord")},
                params=[path_param("event_id")],
            )
        },
        "/api/push/key": {
            "get": operation(
                "The VAPID public key (RFC 8292) for PushManager.subscribe.",
                PUSH,
                {"200": json_response("the key", "PushKey")},
            )
        },
        "/api/push/subscriptions": {
            "post": operation(
                "Subscribe a browser's push endpoint with a filter; returns its token.",
                PUSH,
                {"201": json_response("subscribed", "PushSubscribed")},
                body="PushSubscribeRequest",
            )
        },
        "/api/push/subscriptions/{id}": {
            "get": operation(
                "A subscription's filter (Authorization: Bearer <its token>).",
                PUSH,
                {"200": json_response("the subscription", "PushSubscription")},
                params=SUBSCRIPTION_ID,
                auth=True,
            ),
            "put": operation(
                "Replace a subscription's filter.",
                PUSH,
                {"200": json_response("the subscription", "PushSubscription")},
                params=SUBSCRIPTION_ID,
                body="PushFilterRequest",
                auth=True,
            ),
            "delete": operation(
                "Unsubscribe.", PUSH, {"204": NO_CONTENT}, params=SUBSCRIPTION_ID, auth=True
            ),
        },
        "/history": {
            "get": operation(
                "The history page (search the archive).",
                PAGES,
                {"200": other_response("page", "text/html")},
            )
        },
        "/events/{id}": {
            "get": operation(
                "One event's page (its telegrams, map, intensities); Atom entries link here.",
                PAGES,
                {
                    "200": other_response("page", "text/html"),
                    "404": other_response("no such event: a page that says so", "text/html"),
                },
                params=[path_param("id")],
            )
        },
        "/manifest.webmanifest": {
            "get": operation(
                "The web app manifest (installable page).",
                PAGES,
                {
                    "200": {
                        "description": "the manifest",
                        "content": content({"type": "object"}, "application/manifest+json"),
                    }
                },
            )
        },
        "/sw.js": {
            "get": operation(
                "The service worker (Web Push notifications).",
                PAGES,
                {"200": other_response("script", "text/javascript")},
            )
        },
        "/api/locate": {
            "get": operation(
                "The prefecture at a point (null at sea or abroad); nothing is stored.",
                PUSH,
                {"200": json_response("the prefecture", "Located")},
                params=[
                    {"name": "lat", "in": "query", "required": True, "schema": {"type": "number"}},
                    {"name": "lon", "in": "query", "required": True, "schema": {"type": "number"}},
                ],
            )
        },
    }
)


def document() -> Schema:
    """The OpenAPI 3.1 document (a fresh copy)."""
    schemas = {**copy.deepcopy(BODIES), **copy.deepcopy(STREAM_MESSAGES)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "yure",
            "version": __version__,
            "summary": "揺れ — real-time earthquake and tsunami information feed for Japan",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": copy.deepcopy(PATHS),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "yure_session"},
            },
        },
    }


def standalone(name: str) -> Schema:
    """The schema ``name`` (a stream message or a body) as a self-contained JSON Schema
    (references become ``$defs``); stream messages are written to
    ``docs/schemas/<name>.json``."""
    everything = {**BODIES, **STREAM_MESSAGES}
    needed: dict[str, Schema] = {}
    pending = [name]
    while pending:
        current = pending.pop()
        text = json.dumps(everything[current])
        for other in everything:
            if f'"{REF}{other}"' in text and other not in needed and other != name:
                needed[other] = everything[other]
                pending.append(other)
    root = copy.deepcopy(everything[name])
    raw = json.dumps(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://yure.invalid/schemas/{name}.json",
            "title": name,
            **root,
            **({"$defs": {k: needed[k] for k in sorted(needed)}} if needed else {}),
        }
    )
    result: Schema = json.loads(raw.replace(f'"{REF}{name}"', '"#"').replace(REF, "#/$defs/"))
    return result


def render(obj: Any) -> bytes:
    """How the document and the schema files are written (stable, readable)."""
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


async def openapi_json(request: web.Request) -> web.Response:
    """``GET /openapi.json``."""
    return web.Response(
        body=request.app[_BODY],
        content_type=JSON,
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


_BODY = web.AppKey("openapi_body", bytes)


def setup(app: web.Application) -> None:
    """Serve the document at ``/openapi.json``."""
    app[_BODY] = render(document())
    app.router.add_get("/openapi.json", openapi_json)


def write(folder: Path) -> None:
    """Write ``folder/openapi.json`` and ``folder/schemas/<message>.json``."""
    (folder / "schemas").mkdir(parents=True, exist_ok=True)
    (folder / "openapi.json").write_bytes(render(document()))
    for name in STREAM_MESSAGES:
        (folder / "schemas" / f"{name}.json").write_bytes(render(standalone(name)))


if __name__ == "__main__":  # pragma: no cover
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
