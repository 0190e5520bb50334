"""One push request (RFC 8030 §5) and what its answer means. Driver module, with the
answer's meaning (:func:`classify`) kept pure.

| answer | outcome |
| --- | --- |
| 201 (200, 202) | delivered (the push service accepted it, RFC 8030 §5) |
| 404, 410 | gone: the subscription expired or was removed (§6.2, §7.3): delete it |
| 429 | retry after ``Retry-After`` (RFC 6585 §4) |
| 5xx, timeout, connection error | retry with backoff |
| other 4xx (400, 401, 403, 413) | rejected: our request is wrong for this service; not retried |
"""

from __future__ import annotations

import dataclasses
import email.utils
import logging
import time
from collections.abc import Callable
from enum import StrEnum

from yure.push.alert import Message
from yure.push.limits import MAX_RETRY_AFTER_S, REQUEST_TIMEOUT_S
from yure.push.vapid import VapidSigner
from yure.push.wire import PushClient

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    """What became of one request."""

    DELIVERED = "delivered"
    GONE = "gone"
    RETRY = "retry"
    REJECTED = "rejected"


@dataclasses.dataclass(frozen=True, slots=True)
class Result:
    """The outcome of one request; ``retry_after_s`` when the service asked for a pause."""

    outcome: Outcome
    status: int | None = None
    retry_after_s: float | None = None


def parse_retry_after(value: str | None, now_s: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` (RFC 9110 §10.2.3: delay-seconds or an
    HTTP-date), at most :data:`MAX_RETRY_AFTER_S`; None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(0.0, when.timestamp() - now_s), MAX_RETRY_AFTER_S)


def classify(status: int, retry_after: str | None, now_s: float) -> Result:
    """The :class:`Result` of an HTTP answer (see the table in the module docstring)."""
    if status in (200, 201, 202):
        return Result(Outcome.DELIVERED, status)
    if status in (404, 410):
        return Result(Outcome.GONE, status)
    if status == 429:
        return Result(Outcome.RETRY, status, parse_retry_after(retry_after, now_s))
    if status >= 500:
        return Result(Outcome.RETRY, status, parse_retry_after(retry_after, now_s))
    return Result(Outcome.REJECTED, status)


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    """Where one message goes, and its body encrypted for that receiver (RFC 8291)."""

    sub_id: str
    endpoint: str
    body: bytes


def push_client(*, allow_local: bool, connections: int) -> PushClient:
    """The HTTP client of the delivery job (:mod:`yure.push.wire`): public addresses
    only, at most ``connections`` open per push service, each request bounded by
    :data:`~yure.push.limits.REQUEST_TIMEOUT_S`."""
    return PushClient(
        allow_local=allow_local, connections_per_origin=connections, timeout_s=REQUEST_TIMEOUT_S
    )


class PushSender:
    """Sends one encrypted message to one target."""

    def __init__(
        self,
        client: PushClient,
        signer: VapidSigner,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.signer = signer
        self.clock = clock

    async def send(self, target: Target, message: Message, *, ttl_s: int) -> Result:
        """POST ``target.body`` (``message`` encrypted) with ``TTL: ttl_s`` (the time the
        message has left) and ``message``'s other headers."""
        now = self.clock()
        headers = [
            ("TTL", str(max(0, ttl_s))),
            ("Urgency", message.urgency.value),
            ("Topic", message.topic),
            ("Content-Encoding", "aes128gcm"),
            ("Content-Type", "application/octet-stream"),
            ("Authorization", self.signer.authorization(target.endpoint, now)),
        ]
        try:
            answer = await self.client.post(target.endpoint, headers, target.body)
            return classify(answer.status, answer.retry_after, self.clock())
        except (TimeoutError, OSError) as err:
            log.debug("push request failed sub=%s error=%r", target.sub_id, err)
            return Result(Outcome.RETRY)
