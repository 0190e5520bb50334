"""VAPID (RFC 8292): the application server's key and the ``Authorization`` header.

Core module (the clock is passed in). The key is a P-256 private key; its public key,
uncompressed and base64url-encoded, is what browsers pass to
``PushManager.subscribe({applicationServerKey})`` (RFC 8292 §3.2) and what
``GET /api/push/key`` serves. A token is a JWT signed with ES256 whose ``aud`` is
the push service's origin (§2), valid for :data:`TOKEN_LIFETIME_S` (at most 24 h,
§2); one token per origin is reused until :data:`RESIGN_BEFORE_S` before it expires,
so a fan-out to 100,000 subscriptions signs a handful of tokens, not 100,000.
"""

from __future__ import annotations

import dataclasses
import json
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from yure.push.ece import b64url_decode, b64url_encode
from yure.push.errors import VapidKeyError

#: Lifetime of one signed token (RFC 8292 §2: no more than 24 hours).
TOKEN_LIFETIME_S = 12 * 3600
#: A cached token is replaced this long before it expires.
RESIGN_BEFORE_S = 3600
#: Origins whose tokens are cached at most (the cache is emptied when full).
MAX_CACHED_AUDIENCES = 4096
#: A private key is 32 octets (a P-256 scalar), base64url without padding = 43 chars.
PRIVATE_KEY_BYTES = 32

_HEADER = b64url_encode(b'{"typ":"JWT","alg":"ES256"}')


def generate_private_key() -> ec.EllipticCurvePrivateKey:
    """A new P-256 key."""
    return ec.generate_private_key(ec.SECP256R1())


def private_key_from_b64(text: str) -> ec.EllipticCurvePrivateKey:
    """Parse the raw 32-octet private scalar, base64url (as ``web-push generate-vapid-keys``
    prints it, and as yure stores it).

    Raises:
        VapidKeyError: not base64url of 32 octets, or not a valid scalar.
    """
    try:
        raw = b64url_decode(text.strip())
    except ValueError as err:
        raise VapidKeyError("VAPID private key is not base64url") from err
    if len(raw) != PRIVATE_KEY_BYTES:
        raise VapidKeyError(f"VAPID private key must be {PRIVATE_KEY_BYTES} bytes")
    try:
        return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except ValueError as err:
        raise VapidKeyError("VAPID private key is not a P-256 scalar") from err


def private_key_to_b64(key: ec.EllipticCurvePrivateKey) -> str:
    """The raw private scalar, base64url (the inverse of :func:`private_key_from_b64`)."""
    return b64url_encode(key.private_numbers().private_value.to_bytes(PRIVATE_KEY_BYTES, "big"))


def public_key_b64(key: ec.EllipticCurvePrivateKey) -> str:
    """The uncompressed public point, base64url: the ``applicationServerKey``."""
    point = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return b64url_encode(point)


def audience_of(endpoint: str) -> str:
    """The ``aud`` claim for ``endpoint``: its origin (RFC 8292 §2)."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


@dataclasses.dataclass(frozen=True, slots=True)
class _Token:
    header: str
    expires_at: int


class VapidSigner:
    """Signs and caches the ``Authorization`` header per push service origin."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, subject: str) -> None:
        self.key = key
        self.subject = subject
        self.public_key = public_key_b64(key)
        self._cache: dict[str, _Token] = {}

    def authorization(self, endpoint: str, now_s: float) -> str:
        """``vapid t=<jwt>, k=<public key>`` for a request to ``endpoint`` at ``now_s``."""
        aud = audience_of(endpoint)
        token = self._cache.get(aud)
        if token is None or token.expires_at - RESIGN_BEFORE_S <= now_s:
            if len(self._cache) >= MAX_CACHED_AUDIENCES:
                self._cache.clear()
            expires_at = int(now_s) + TOKEN_LIFETIME_S
            token = _Token(self._sign(aud, expires_at), expires_at)
            self._cache[aud] = token
        return token.header

    def _sign(self, aud: str, expires_at: int) -> str:
        claims = json.dumps(
            {"aud": aud, "exp": expires_at, "sub": self.subject},
            separators=(",", ":"),
            sort_keys=True,
        )
        signing_input = _HEADER + "." + b64url_encode(claims.encode())
        der = self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        # RFC 7518 §3.4: the JWS signature is R || S, 32 octets each, not DER.
        r, s = decode_dss_signature(der)
        signature = b64url_encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
        return f"vapid t={signing_input}.{signature}, k={self.public_key}"
