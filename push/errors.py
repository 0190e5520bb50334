"""Errors of the push package (see the tree in :mod:`yure.errors`)::

PushError
├── SubscriptionError    a subscription or filter the API refuses (400, with the reason)
│   └── EndpointError    an endpoint that is not https:// on a public address (SSRF guard)
├── TooManySubscriptions the per-address cap is reached (429)
├── NotFound             no subscription with that id (404)
├── Unauthorized         missing or wrong management token (401)
├── VapidKeyError        a VAPID key that cannot be read, parsed or stored
└── StoreError           Redis failed or timed out under a push operation
"""

from __future__ import annotations

from yure.errors import YureError


class PushError(YureError):
    """Base of every push error."""


class SubscriptionError(PushError):
    """A subscription or filter that cannot be accepted; the message says why."""


class EndpointError(SubscriptionError):
    """A push endpoint yure refuses to contact: not https://, or not a public address."""


class TooManySubscriptions(PushError):
    """The address that asked already holds the most subscriptions allowed."""


class NotFound(PushError):
    """No subscription with this id."""


class Unauthorized(PushError):
    """The management token is missing or does not match."""


class VapidKeyError(PushError):
    """The VAPID private key cannot be read, parsed or stored."""


class StoreError(PushError):
    """Redis failed or timed out under a push operation."""
