"""Every limit of push, named with its unit, on by default."""

from __future__ import annotations

#: Longest endpoint URL accepted (FCM's and Mozilla's are ~200 characters).
MAX_ENDPOINT_CHARS = 1024
#: Largest request body of the subscription API.
MAX_REQUEST_BYTES = 8 * 1024
#: Subscriptions one deployment keeps at most; more are refused with 503.
MAX_SUBSCRIPTIONS = 1_000_000
#: Timeline entries delivered at once; when all are busy the reader waits.
MAX_ENTRIES_IN_FLIGHT = 8
#: Subscriptions read from Redis per round trip while fanning out.
FANOUT_BATCH = 1000
#: Results written to Redis per round trip (done marks, topic sets, removals).
RECORD_BATCH = 500
#: Tries per subscription and entry before yure gives up on it.
MAX_ATTEMPTS = 6
#: Retry backoff (yure.backoff) per subscription after a 5xx or a timeout.
RETRY_BASE_S = 1.0
RETRY_CAP_S = 60.0
#: A ``Retry-After`` longer than this is cut to it (RFC 9110 §10.2.3 allows any).
MAX_RETRY_AFTER_S = 600.0
#: One request to a push service, connection included.
REQUEST_TIMEOUT_S = 10.0
#: On shutdown, requests already sent get this long to answer, so that their
#: outcome is recorded and nothing is sent twice after a restart.
DRAIN_TIMEOUT_S = 5.0
#: Resolving an endpoint's host when a subscription is made.
RESOLVE_TIMEOUT_S = 5.0
#: Reader: entries per read and how long one read blocks.
READ_ENTRIES = 16
READ_BLOCK_MS = 2000
