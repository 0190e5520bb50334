"""Every limit of the broadcaster, named with its unit, on by default.

The defaults are the values the protocol documents (docs/protocol.md §Limits).
Operators tune the per-IP connection cap through ``YURE_WS_MAX_CONNS_PER_IP``;
the rest are constants that tests may shrink by building their own
:class:`Limits`.
"""

from __future__ import annotations

import dataclasses

#: Largest client → server WebSocket message; larger ones close with 1009.
WS_MAX_MESSAGE_BYTES = 4096
#: ``subscribe`` messages one connection may send in its lifetime; more close with 1008.
MAX_SUBSCRIBES_PER_CONNECTION = 32
#: Tokens (prefecture codes / region names) in one filter; more close with 1008.
MAX_FILTER_PREFS = 64
#: Kinds in one filter.
MAX_FILTER_KINDS = 16
#: Length of one filter token or kind name.
MAX_TOKEN_CHARS = 32
#: Open stream connections (WebSocket + SSE) per client address per worker process.
MAX_CONNECTIONS_PER_IP = 256
#: A connection's send queue is its asyncio transport buffer, bounded before each write
#: (broadcast.buffers): a write that would take it past MAX_SEND_BUFFER_BYTES is not made
#: and the client is dropped; a replay writes only while it stays under
#: SEND_BUFFER_HIGH_BYTES (it waits for the client to read); more than
#: SEND_BUFFER_HIGH_BYTES waiting for longer than SLOW_CONSUMER_AFTER_S → dropped too.
#: All connections of one address share MAX_SEND_BUFFER_BYTES_PER_IP: over it, its
#: connections above the high mark that read nothing since last looked at get no more,
#: and its connections that do not read are dropped first, fullest first.
#: A dropped client's buffer is freed at once (the socket is reset; close code 4000 when
#: nothing was waiting); it resumes with ``since``.
MAX_SEND_BUFFER_BYTES = 4 * 1024 * 1024
SEND_BUFFER_HIGH_BYTES = 256 * 1024
SLOW_CONSUMER_AFTER_S = 5.0
MAX_SEND_BUFFER_BYTES_PER_IP = 16 * 1024 * 1024
#: The kernel's send buffer of a stream connection (SO_SNDBUF; Linux doubles it). Left to
#: autotuning, loopback and LAN sockets grow to 4 MiB each, so 200 clients that never read
#: absorb 800 MB of kernel memory and as much copying before any cap applies. Events are
#: small: this still carries MB/s per connection. 0 leaves the kernel's autotuning.
SOCKET_SEND_BUFFER_BYTES = 128 * 1024
#: Bytes of event payloads a replay writes at once (at least one event).
REPLAY_CHUNK_BYTES = 64 * 1024
#: Entries one replay round trip to Redis reads (held while the client drains them).
REPLAY_READ_ENTRIES = 64
#: How long a client closed by the server (shutdown) gets to read its close frame before
#: the socket is aborted.
SLOW_CLOSE_GRACE_S = 5.0
#: Server heartbeat period (the protocol promises one at least every 15 s).
HEARTBEAT_INTERVAL_S = 10.0
#: Largest JSON payload one timeline entry may carry.
MAX_PAYLOAD_BYTES = 512 * 1024
#: Largest coalesced frame; a burst is split into several frames past this.
MAX_FRAME_BYTES = 256 * 1024
#: Events per coalesced frame at most.
MAX_EVENTS_PER_FRAME = 256
#: Entries one XREAD / XRANGE round trip fetches.
READ_BATCH_ENTRIES = 512
#: How long one blocking XREAD waits for new entries (below redis-py's default 5 s
#: socket timeout, so an idle stream is not mistaken for a dead connection).
READ_BLOCK_MS = 2000
#: Timeout of one non-blocking Redis command.
REDIS_TIMEOUT_S = 5.0
#: ``limit`` of GET /api/timeline at most (and its default).
API_MAX_LIMIT = 500
API_DEFAULT_LIMIT = 100
#: Entries GET /api/timeline scans at most to fill one page of a narrow filter.
API_MAX_SCAN_ENTRIES = 20_000
#: Bytes of the query string accepted by the HTTP stream endpoints.
MAX_QUERY_BYTES = 2048


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    """The limits one broadcaster process enforces."""

    ws_max_message_bytes: int = WS_MAX_MESSAGE_BYTES
    max_subscribes_per_connection: int = MAX_SUBSCRIBES_PER_CONNECTION
    max_connections_per_ip: int = MAX_CONNECTIONS_PER_IP
    max_send_buffer_bytes: int = MAX_SEND_BUFFER_BYTES
    send_buffer_high_bytes: int = SEND_BUFFER_HIGH_BYTES
    slow_consumer_after_s: float = SLOW_CONSUMER_AFTER_S
    max_send_buffer_bytes_per_ip: int = MAX_SEND_BUFFER_BYTES_PER_IP
    replay_chunk_bytes: int = REPLAY_CHUNK_BYTES
    socket_send_buffer_bytes: int = SOCKET_SEND_BUFFER_BYTES
    replay_read_entries: int = REPLAY_READ_ENTRIES
    slow_close_grace_s: float = SLOW_CLOSE_GRACE_S
    heartbeat_interval_s: float = HEARTBEAT_INTERVAL_S
    max_frame_bytes: int = MAX_FRAME_BYTES
    max_events_per_frame: int = MAX_EVENTS_PER_FRAME
    read_batch_entries: int = READ_BATCH_ENTRIES
    read_block_ms: int = READ_BLOCK_MS
