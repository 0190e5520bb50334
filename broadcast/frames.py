"""The bytes the server sends: protocol messages, WebSocket frames, SSE chunks.

Core module: no I/O. Everything here is built once per event (or per batch of
events for one filter group) and then written, unchanged, to every matching
connection: server-to-client WebSocket frames are never masked (RFC 6455 §5.1)
and the server negotiates no extension, so one encoded frame is valid on every
connection.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from enum import IntEnum, StrEnum

from yure.broadcast.envelope import Entry

READY = b'{"type":"ready"}'
HEARTBEAT = b'{"type":"heartbeat"}'


class Encoding(StrEnum):
    """How a connection frames messages."""

    WS = "ws"
    SSE = "sse"


class CloseCode(IntEnum):
    """WebSocket close codes the server uses (RFC 6455 §7.4.1; 4000–4999 private use)."""

    NORMAL = 1000
    GOING_AWAY = 1001  # server shutting down: reconnect and resume with since
    PROTOCOL_ERROR = 1002  # a frame that breaks RFC 6455 (unmasked, reserved bits, …)
    UNSUPPORTED_DATA = 1003  # a binary message
    INVALID_DATA = 1007  # a text message that is not UTF-8
    POLICY_VIOLATION = 1008  # malformed message, bad filter, too many subscribes
    MESSAGE_TOO_BIG = 1009  # client message over WS_MAX_MESSAGE_BYTES
    INTERNAL_ERROR = 1011
    TRY_AGAIN_LATER = 1013  # too many connections from this address; timeline unavailable
    SLOW_CONSUMER = 4000  # send buffer over its limit: reconnect and resume with since
    UNAUTHORIZED = 4401  # a private channel's credentials are missing, wrong or revoked


def event_message(entry: Entry) -> bytes:
    """``{"type":"event","id":"…","event":{…}}`` (the payload is spliced in, not re-encoded)."""
    return b'{"type":"event","id":"' + entry.id.encode() + b'","event":' + entry.payload + b"}"


def cursor_expired_message(oldest: str) -> bytes:
    """``{"type":"cursor_expired","oldest":"<id>"}``: ``since`` was older than retention."""
    return b'{"type":"cursor_expired","oldest":"' + oldest.encode() + b'"}'


def coalesce(messages: Sequence[bytes], *, max_bytes: int, max_items: int) -> list[bytes]:
    """Group event messages into frames: one message alone stays the plain form,
    several become ``{"type":"events","items":[…]}`` of at most ``max_items`` messages
    and about ``max_bytes`` (a single larger message gets a frame of its own)."""
    if len(messages) == 1:
        return [messages[0]]
    frames: list[bytes] = []
    group: list[bytes] = []
    size = 0
    for message in messages:
        if group and (len(group) >= max_items or size + len(message) > max_bytes):
            frames.append(_batch(group))
            group, size = [], 0
        group.append(message)
        size += len(message) + 1
    if group:
        frames.append(_batch(group))
    return frames


def _batch(group: list[bytes]) -> bytes:
    if len(group) == 1:
        return group[0]
    return b'{"type":"events","items":[' + b",".join(group) + b"]}"


def ws_text_frame(payload: bytes) -> bytes:
    """One unmasked, final text frame (RFC 6455 §5.2: FIN + opcode 0x1, 7/16/64-bit length)."""
    length = len(payload)
    if length < 126:
        return struct.pack("!BB", 0x81, length) + payload
    if length < 65536:
        return struct.pack("!BBH", 0x81, 126, length) + payload
    return struct.pack("!BBQ", 0x81, 127, length) + payload


def ws_close_frame(code: int, reason: str = "") -> bytes:
    """A close frame with a status code and a UTF-8 reason of at most 123 bytes (§5.5.1),
    cut between characters (a reason may quote what a client sent)."""
    cut = reason.encode(errors="replace")[:123].decode(errors="ignore")
    body = struct.pack("!H", code) + cut.encode()
    return struct.pack("!BB", 0x88, len(body)) + body


def sse_event(message: bytes, entry_id: str | None = None, event: str | None = None) -> bytes:
    """One Server-Sent Event (HTML Living Standard §9.2.5): an ``id:`` line when the
    message is a timeline entry (so Last-Event-ID resumes after it), an ``event:`` line
    when the stream names its message types, then one ``data:`` line. Messages never
    contain a raw newline (orjson escapes them)."""
    head = b"" if entry_id is None else b"id: " + entry_id.encode() + b"\n"
    if event is not None:
        head += b"event: " + event.encode() + b"\n"
    return head + b"data: " + message + b"\n\n"


def http_chunk(data: bytes) -> bytes:
    """One HTTP/1.1 chunk (RFC 9112 §7.1): the SSE response is chunked."""
    return b"%x\r\n" % len(data) + data + b"\r\n"


def ws_frames(messages: Sequence[bytes], *, max_bytes: int, max_items: int) -> tuple[bytes, int]:
    """The WebSocket bytes carrying ``messages`` coalesced (see :func:`coalesce`), and
    how many frames they are."""
    frames = coalesce(messages, max_bytes=max_bytes, max_items=max_items)
    return b"".join(ws_text_frame(frame) for frame in frames), len(frames)


def sse_frames(entries: Sequence[Entry], messages: Sequence[bytes]) -> bytes:
    """The chunked SSE bytes carrying ``messages`` (one SSE event each, one chunk)."""
    return http_chunk(
        b"".join(sse_event(msg, entry.id) for entry, msg in zip(entries, messages, strict=True))
    )
