"""A local push service (RFC 8030) for the tests: it plays the browser vendor's server.

Each subscription is an endpoint ``/push/<name>`` with the keys a browser would hold.
Every message is checked as a push service and a browser would: ``Content-Encoding:
aes128gcm``, a ``TTL``, a VAPID ``Authorization`` whose signature verifies with
``py_vapid``, whose ``aud`` is this origin and whose key is the server's
(RFC 8292 §4), and a body that ``http_ece`` decrypts with the subscriber's private key
(RFC 8291). Answers are 201 unless a test queued others (404, 410, 429, 500).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import json
import os
import time
from typing import Any

import http_ece
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid02

from yure.push.ece import b64url_decode, b64url_encode


@dataclasses.dataclass(frozen=True)
class BrowserKeys:
    """What a browser keeps for one subscription."""

    private_key: ec.EllipticCurvePrivateKey
    p256dh: str
    auth: str

    @classmethod
    def generate(cls) -> BrowserKeys:
        key = ec.generate_private_key(ec.SECP256R1())
        point = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return cls(key, b64url_encode(point), b64url_encode(os.urandom(16)))


def decrypt_independently(body: bytes, keys: BrowserKeys) -> bytes:
    """Decrypt with http_ece, the reference implementation (not yure's code)."""
    plain: bytes = http_ece.decrypt(
        body,
        private_key=keys.private_key,
        auth_secret=b64url_decode(keys.auth),
        version="aes128gcm",
    )
    return plain


@dataclasses.dataclass(frozen=True)
class Received:
    """One accepted message, decrypted."""

    name: str
    payload: dict[str, Any]
    topic: str | None
    ttl: int
    urgency: str | None


@dataclasses.dataclass
class Answer:
    status: int
    retry_after: str | None = None


class PushService:
    """The state and the aiohttp app of one local push service."""

    def __init__(self, server_public_key: str | None = None) -> None:
        self.server_public_key = server_public_key
        self.keys: dict[str, BrowserKeys] = {}
        self.received: list[Received] = []
        #: Every request, accepted or not: (name, status).
        self.requests: list[tuple[str, int]] = []
        self.rejections: list[str] = []
        self.answers: dict[str, collections.deque[Answer]] = collections.defaultdict(
            collections.deque
        )
        self.origin = ""
        #: Requests to these names wait for :attr:`release` (to hold them in flight).
        self.hold: set[str] = set()
        self.release = asyncio.Event()
        self.in_flight = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/push/{name}", self.handle)
        return app

    def subscribe(self, name: str) -> dict[str, Any]:
        """A browser's PushSubscription JSON for a new endpoint ``name``."""
        keys = BrowserKeys.generate()
        self.keys[name] = keys
        return {
            "endpoint": f"{self.origin}/push/{name}",
            "expirationTime": None,
            "keys": {"p256dh": keys.p256dh, "auth": keys.auth},
        }

    def queue(self, name: str, *answers: Answer) -> None:
        self.answers[name].extend(answers)

    def for_name(self, name: str) -> list[Received]:
        return [r for r in self.received if r.name == name]

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.read()
        if name in self.hold:
            self.in_flight += 1
            try:
                await self.release.wait()
            finally:
                self.in_flight -= 1
        problem = self._check(request, name)
        if problem is not None:
            self.rejections.append(problem)
            self.requests.append((name, 400))
            return web.Response(status=400, text=problem)
        queued = self.answers[name]
        answer = queued.popleft() if queued else Answer(201)
        self.requests.append((name, answer.status))
        if answer.status != 201:
            headers = {"Retry-After": answer.retry_after} if answer.retry_after else {}
            return web.Response(status=answer.status, headers=headers)
        try:
            plain = decrypt_independently(body, self.keys[name])
        except Exception as err:  # any failure to decrypt is the finding
            self.rejections.append(f"decrypt {name}: {err!r}")
            return web.Response(status=400)
        self.received.append(
            Received(
                name=name,
                payload=json.loads(plain),
                topic=request.headers.get("Topic"),
                ttl=int(request.headers["TTL"]),
                urgency=request.headers.get("Urgency"),
            )
        )
        return web.Response(status=201, headers={"Location": f"/message/{len(self.received)}"})

    def _check(self, request: web.Request, name: str) -> str | None:
        if name not in self.keys:
            return f"unknown subscription {name}"
        if request.headers.get("Content-Encoding") != "aes128gcm":
            return "Content-Encoding must be aes128gcm"
        if not request.headers.get("TTL", "").isdigit():
            return "TTL missing"
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("vapid "):
            return "no VAPID authorization"
        params = dict(p.strip().split("=", 1) for p in auth[len("vapid ") :].split(","))
        if self.server_public_key is not None and params.get("k") != self.server_public_key:
            return "VAPID key is not the server's"
        if not Vapid02.verify(f"vapid t={params['t']},k={params['k']}"):
            return "VAPID signature does not verify"
        claims = json.loads(b64url_decode(params["t"].split(".")[1]))
        if claims.get("aud") != self.origin:
            return f"VAPID aud {claims.get('aud')!r} is not {self.origin!r}"
        if not time.time() < claims["exp"] <= time.time() + 24 * 3600:
            return "VAPID exp out of range"
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            return "VAPID sub must be mailto: or https:"
        topic = request.headers.get("Topic")
        if topic is not None and (
            len(topic) > 32 or not all(c.isalnum() or c in "-_" for c in topic)
        ):
            return f"bad Topic {topic!r}"
        return None
