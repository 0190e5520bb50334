"""HTTP routes of the safety check: accounts, sessions, friends, check-ins, posts, felt.

Thin aiohttp handlers: read and validate (``auth``, ``wire``), rate-limit, call a store,
answer JSON (``responses``). Errors are raised (:mod:`safety_check.errors`) and answered
as RFC 9457 problem details by the app's one error middleware (``web.problems``). The
API is documented in docs/api.md.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from redis.asyncio import Redis

from yure.aio import background
from yure.broadcast.timeline import Timeline
from yure.geo.locate import pref_at
from yure.replication import ReplicatedWriter
from yure.safety_check import keys, live, store, wire
from yure.safety_check.auth import (
    authenticate,
    clear_session_cookie,
    client_address,
    idempotency_key,
    read_json,
    set_session_cookie,
)
from yure.safety_check.config import Clock, SafetyConfig, system_clock
from yure.safety_check.errors import InvalidInput, NotFound, Unauthorized
from yure.safety_check.felt import FeltSource
from yure.safety_check.posts import Locator, locate
from yure.safety_check.responses import empty_response, json_response
from yure.safety_check.secret import address_secret
from yure.safety_check.services import SERVICES, Services, build_services, check_durability
from yure.safety_check.text import normalize_handle
from yure.settings import Settings

log = logging.getLogger(__name__)

Handler = Callable[[web.Request, Services], Awaitable[web.StreamResponse]]


def _route(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def run(request: web.Request) -> web.StreamResponse:
        return await handler(request, request.app[SERVICES])

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


async def create_account(request: web.Request, s: Services) -> web.StreamResponse:
    """POST /api/accounts {handle, password} → 201 {token, handle}."""
    address = client_address(request)
    await s.limiter.hit(s.config.limits.account_net, s.subjects.network(address))
    handle, password = wire.parse_credentials(await read_json(request))
    account = await s.accounts.create(
        handle, password, subject=s.subjects.address(address), network=s.subjects.network(address)
    )
    token = await s.sessions.issue(account.uid)
    codes = await s.recovery.issue(account.uid)
    response = json_response(
        {"token": token, "handle": account.handle, "recovery_codes": codes}, status=201
    )
    set_session_cookie(request, response, token, s.config.session_ttl_s)
    return response


async def recover_account(request: web.Request, s: Services) -> web.StreamResponse:
    """POST /api/accounts/recover {handle, code, new_password} → 200 {token, handle,
    codes_left}: a recovery code sets a new password, ends every session and is burnt.
    A wrong or used code and an unknown handle answer the same 401; tries are throttled
    like logins."""
    subject = s.subjects.address(client_address(request))
    await s.limiter.hit(s.config.limits.login_ip, subject)
    handle, code, password = wire.parse_recovery(await read_json(request))
    await s.guesses.check(subject, handle)
    uid = await s.accounts.uid_of(handle)
    left = None if uid is None else await s.recovery.redeem(uid, code)
    if uid is None or left is None:
        await s.guesses.failed(subject, handle)
        raise Unauthorized("wrong handle or recovery code")
    await s.guesses.succeeded(subject, handle)
    await s.accounts.set_password(uid, password, subject=subject)
    await s.sessions.revoke_all(uid)
    token = await s.sessions.issue(uid)
    response = json_response({"token": token, "handle": handle, "codes_left": left})
    set_session_cookie(request, response, token, s.config.session_ttl_s)
    return response


async def new_recovery_codes(request: web.Request, s: Services) -> web.StreamResponse:
    """POST /api/recovery-codes → 201 {recovery_codes}: a fresh set; the old one stops
    working."""
    me = await authenticate(request, s)
    await s.limiter.hit(s.config.limits.recovery_codes_user, me.uid)
    return json_response({"recovery_codes": await s.recovery.issue(me.uid)}, status=201)


async def create_session(request: web.Request, s: Services) -> web.StreamResponse:
    """POST /api/sessions {handle, password} → 200 {token, handle}. Wrong passwords slow
    down their own address (safety_check.guesses), never the owner elsewhere."""
    subject = s.subjects.address(client_address(request))
    await s.limiter.hit(s.config.limits.login_ip, subject)
    handle, password = wire.parse_login(await read_json(request))
    await s.guesses.check(subject, handle)
    try:
        account = await s.accounts.verify(handle, password, subject=subject)
    except Unauthorized:
        await s.guesses.failed(subject, handle)
        raise
    await s.guesses.succeeded(subject, handle)
    token = await s.sessions.issue(account.uid)
    response = json_response({"token": token, "handle": account.handle})
    set_session_cookie(request, response, token, s.config.session_ttl_s)
    return response


async def current_session(request: web.Request, s: Services) -> web.StreamResponse:
    """GET /api/sessions/current → {handle}."""
    me = await authenticate(request, s)
    return json_response({"handle": me.handle})


async def delete_session(request: web.Request, s: Services) -> web.StreamResponse:
    """DELETE /api/sessions/current → 204; the token stops working at once."""
    me = await authenticate(request, s)
    await s.sessions.revoke(me.uid, me.token_hash)
    response = empty_response()
    clear_session_cookie(request, response)
    return response


async def request_friend(request: web.Request, s: Services) -> web.StreamResponse:
    """POST /api/friends {handle} → {status: requested | friends}."""
    me = await authenticate(request, s)
    await s.limiter.hit(s.config.limits.friend_user, me.uid)
    target = wire.parse_handle(await read_json(request))
    step = await s.friends.request(me.uid, me.handle, target)
    return json_response({"status": step.answer})


async def list_friends(request: web.Request, s: Services) -> web.StreamResponse:
    """GET /api/friends → {friends, incoming, outgoing} (handles)."""
    me = await authenticate(request, s)
    listing = await s.friends.listing(me.uid)
    return json_response(
        {
            "friends": list(listing.friends),
            "incoming": list(listing.incoming),
            "outgoing": list(listing.outgoing),
        }
    )


async def remove_friend(request: web.Request, s: Services) -> web.StreamResponse:
    """DELETE /api/friends/{handle} → 204 (whatever the relation was, or if none)."""
    me = await authenticate(request, s)
    await s.limiter.hit(s.config.limits.friend_user, me.uid)
    target = normalize_handle(request.match_info["handle"])
    await s.friends.remove(me.uid, me.handle, target)
    return empty_response()


async def create_invite(request: web.Request, s: Services) -> web.StreamResponse:
    """POST /api/invites → 201 {token, url, expires_in_s}: a single-use link to /safety that
    offers friendship; the invitee must accept it there."""
    me = await authenticate(request, s)
    await s.limiter.hit(s.config.limits.invite_user, me.uid)
    token = await s.friends.create_invite(me.uid)
    # The token rides in the fragment: never sent to servers, never in a Referer.
    url = f"{request.scheme}://{request.host}/safety#invite={token}"
    return json_response(
        {"token": token, "url": url, "expires_in_s": round(s.config.invite_ttl_s)}, status=201
    )


async def preview_invite(request: web.Request, s: Services) -> web.StreamResponse:
    """POST /api/invites/preview {token} → {handle}: who invites; changes nothing."""
    me = await authenticate(request, s)
    await s.limiter.hit(s.config.limits.friend_user, me.uid)
    token = wire.parse_token(await read_json(request))
    inviter = await s.friends.invite_inviter(me.uid, token)
    return json_response({"handle": inviter})


async def accept_invite(request: web.Request, s: Services) -> web.StreamResponse:
    """POST /api/invites/accept {token} → {status: friends, handle}. The token travels in
    the body, never in a path a proxy would log."""
    me = await authenticate(request, s)
    await s.limiter.hit(s.config.limits.friend_user, me.uid)
    token = wire.parse_token(await read_json(request))
    inviter = await s.friends.accept_invite(me.uid, me.handle, token)
    return json_response({"status": "friends", "handle": inviter})


async def create_checkin(request: web.Request, s: Services) -> web.StreamResponse:
    """POST /api/checkins {status, note?, pref?, event_id?, lat?, lon?, share_location?}
    → 201 check-in. Honours Idempotency-Key."""
    me = await authenticate(request, s)
    key = idempotency_key(request)
    await s.limiter.hit(s.config.limits.checkin_user, me.uid)
    draft, point = wire.parse_checkin(await read_json(request))
    if draft.pref is None and point is not None:
        draft = dataclasses.replace(draft, pref=locate(s.locator, *point))
    checkin, replayed = await s.checkins.create(me.uid, draft, idempotency_key=key)
    if s.replicated is not None:
        # Acknowledged means on a replica too: a failover cannot take it back.
        await store.replicated(s.replicated, keys.HASH_TAG, timeout_s=s.config.redis_timeout_s)
    response = json_response(wire.checkin_json(checkin, me.handle), status=201)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


async def friends_checkins(request: web.Request, s: Services) -> web.StreamResponse:
    """GET /api/checkins/friends → {checkins: [{handle, checkin | null}]}."""
    me = await authenticate(request, s)
    return json_response({"checkins": await live.friends_latest(s, me.uid)})


async def my_checkins(request: web.Request, s: Services) -> web.StreamResponse:
    """GET /api/checkins/mine → {checkins: [...]} newest first."""
    me = await authenticate(request, s)
    mine = await s.checkins.list_of(me.uid)
    return json_response({"checkins": [wire.checkin_json(c, me.handle) for c in mine]})


async def delete_checkin(request: web.Request, s: Services) -> web.StreamResponse:
    """DELETE /api/checkins/{id} → 204; someone else's → 404."""
    me = await authenticate(request, s)
    await s.checkins.delete(me.uid, request.match_info["id"])
    return empty_response()


async def create_post(request: web.Request, s: Services) -> web.StreamResponse:
    """POST /api/posts {text, lat?, lon?, pref?} → 201 the published post."""
    me = await authenticate(request, s)
    await s.limiter.hit(s.config.limits.post_user, me.uid)
    await s.limiter.hit(s.config.limits.post_ip, s.subjects.address(client_address(request)))
    post = await s.posts.create(me.uid, wire.parse_post(await read_json(request)))
    return json_response(wire.post_json(post), status=201)


async def get_post(request: web.Request, s: Services) -> web.StreamResponse:
    """GET /api/posts/{id} → the post (public, no authentication); hidden → 404."""
    post = await s.posts.get(request.match_info["id"])
    if post is None:
        raise NotFound("no such post")
    return json_response(wire.post_json(post))


async def report_post(request: web.Request, s: Services) -> web.StreamResponse:
    """POST /api/posts/{id}/report → 202."""
    me = await authenticate(request, s)
    await s.limiter.hit(s.config.limits.report_user, me.uid)
    voice = await s.accounts.voice(me.uid, s.subjects.network(client_address(request)))
    await s.posts.report(me.uid, request.match_info["id"], voice=voice)
    return json_response({"status": "reported"}, status=202)


async def report_felt(request: web.Request, s: Services) -> web.StreamResponse:
    """POST /api/felt {pref} | {lat, lon} → 202 {pref, counts}."""
    me = await authenticate(request, s)
    await s.limiter.hit(s.config.limits.felt_user, me.uid)
    await s.limiter.hit(s.config.limits.felt_ip, s.subjects.address(client_address(request)))
    pref, point = wire.parse_felt(await read_json(request))
    if point is not None:
        pref = locate(s.locator, *point) or pref
    if pref is None:
        raise InvalidInput("that point is not in a Japanese prefecture")
    voice = await s.accounts.voice(me.uid, s.subjects.network(client_address(request)))
    burst = await s.felt.report(pref, source=FeltSource.USER, voice=voice)
    counts = None if burst is None else wire.felt_counts(burst)
    return json_response({"status": "counted", "pref": pref, "counts": counts}, status=202)


ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("POST", "/api/accounts", create_account),
    ("POST", "/api/accounts/recover", recover_account),
    ("POST", "/api/recovery-codes", new_recovery_codes),
    ("POST", "/api/sessions", create_session),
    ("GET", "/api/sessions/current", current_session),
    ("DELETE", "/api/sessions/current", delete_session),
    ("POST", "/api/friends", request_friend),
    ("GET", "/api/friends", list_friends),
    ("DELETE", "/api/friends/{handle}", remove_friend),
    ("POST", "/api/invites", create_invite),
    ("POST", "/api/invites/preview", preview_invite),
    ("POST", "/api/invites/accept", accept_invite),
    ("POST", "/api/checkins", create_checkin),
    ("GET", "/api/checkins/friends", friends_checkins),
    ("GET", "/api/checkins/mine", my_checkins),
    ("DELETE", "/api/checkins/{id}", delete_checkin),
    ("POST", "/api/posts", create_post),
    ("GET", "/api/posts/{id}", get_post),
    ("POST", "/api/posts/{id}/report", report_post),
    ("POST", "/api/felt", report_felt),
    ("GET", "/api/live", live.live),
)


def setup(
    app: web.Application,
    *,
    redis: Redis,
    settings: Settings,
    public: Timeline,
    config: SafetyConfig | None = None,
    clock: Clock | None = None,
    locator: Locator | None = None,
    replicated: ReplicatedWriter | None = None,
) -> None:
    """Register the safety-check API routes on ``app``, the felt-report flusher on its
    lifecycle, and a start-up check that Redis is durable.

    ``redis`` holds the safety check's own keys (one hash tag, :data:`keys.HASH_TAG`);
    ``public`` is the app's one public timeline (posts and felt reports go there; the
    current event is read from it); with ``replicated``, a check-in is acknowledged only
    once the replicas hold it. ``config``, ``clock`` and ``locator`` default to production
    values (from ``settings``, ``time.time`` and ``geo.locate.pref_at``); tests pass their
    own.
    """
    cfg = config if config is not None else SafetyConfig.from_settings(settings)
    services = build_services(
        redis,
        public=public,
        replicated=replicated,
        config=cfg,
        clock=clock if clock is not None else system_clock,
        locator=locator if locator is not None else pref_at,
        address_secret=address_secret(settings),
    )
    app[SERVICES] = services
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, _route(handler))
    app.on_startup.append(_on_startup)
    app.on_shutdown.append(_on_shutdown)
    app.cleanup_ctx.append(_felt_flusher)


async def _on_startup(app: web.Application) -> None:
    services = app[SERVICES]
    await check_durability(services.redis, timeout_s=services.config.redis_timeout_s)
    await services.accounts.backfill_skeletons()


async def _on_shutdown(app: web.Application) -> None:
    await live.close_all(app[SERVICES])


async def _felt_flusher(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    try:
        async with (
            background(services.felt.run(), name="safety_check.felt_flusher"),
            background(services.bus.run(), name="safety_check.inbox_bus"),
            background(services.reader.run(), name="safety_check.live_reader"),
        ):
            yield
    finally:
        for client in services.own_clients:
            await client.aclose()
