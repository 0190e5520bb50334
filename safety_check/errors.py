"""Errors of the safety_check package (see the tree in :mod:`yure.errors`).

::

    SafetyCheckError
    ├── InvalidInput            a body, header or path value that breaks a rule (length, shape)
    ├── PayloadTooLarge         a body over its named byte cap
    ├── UnsupportedMediaType    a body that is not ``application/json``
    ├── Unauthorized            no session, or an expired, revoked or unknown token
    ├── Forbidden               a cookie-authenticated write without the CSRF header/origin
    ├── NotFound                no such thing *for this caller* (others' data looks absent)
    ├── Conflict                a handle that is already taken
    ├── IdempotencyKeyReused    the same Idempotency-Key sent with a different body
    ├── RateLimited             too many requests; carries ``retry_after_s``
    └── StoreError              Redis failed or timed out (wraps ``redis.exceptions``)

The HTTP status of each class is decided in one place for the whole app,
:data:`web.problems.STATUS`; ``code`` is the problem answer's ``code`` member.
"""

from __future__ import annotations

from yure.errors import YureError


class SafetyCheckError(YureError):
    """Base of every safety_check error. ``code`` is the stable machine-readable name."""

    code = "error"


class InvalidInput(SafetyCheckError):
    """A value breaks a documented rule; the message says which (never echoing secrets)."""

    code = "invalid_input"


class PayloadTooLarge(SafetyCheckError):
    """A request body over its cap."""

    code = "payload_too_large"


class UnsupportedMediaType(SafetyCheckError):
    """A request body that is not JSON (also a CSRF defence: HTML forms cannot send JSON)."""

    code = "unsupported_media_type"


class Unauthorized(SafetyCheckError):
    """Missing, unknown, expired, revoked or malformed credentials."""

    code = "unauthorized"


class Forbidden(SafetyCheckError):
    """A state-changing request authenticated by cookie without the CSRF proof."""

    code = "forbidden"


class NotFound(SafetyCheckError):
    """Absent, or belonging to someone else (the two are indistinguishable on purpose)."""

    code = "not_found"


class Conflict(SafetyCheckError):
    """The handle is taken."""

    code = "conflict"


class IdempotencyKeyReused(SafetyCheckError):
    """An Idempotency-Key was replayed with a different request body."""

    code = "idempotency_key_reused"


class RateLimited(SafetyCheckError):
    """Over a rate limit; retry after ``retry_after_s`` whole seconds."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class StoreError(SafetyCheckError):
    """The Redis store failed or timed out."""

    code = "unavailable"
