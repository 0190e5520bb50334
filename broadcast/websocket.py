"""The server side of RFC 6455, sans I/O: the opening handshake's answer and a reader of
client frames.

Core module: values in, values out. :mod:`broadcast.ws` drives it: aiohttp parses the
HTTP request, :func:`accept_headers` says what the 101 answer carries, then every byte
the client sends goes through one :class:`ClientFrames` per connection, which turns them
into :data:`ClientEvent` values. The server never negotiates an extension or a
subprotocol, so a frame with any RSV bit set is a protocol error (§5.2).

The reader keeps nothing but a partial frame and the fragments of one message, each
bounded by ``max_message_bytes``: an idle connection holds a few empty attributes.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Mapping

from yure.broadcast.frames import CloseCode

#: RFC 6455 §1.3: appended to the client's key before hashing.
ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#: RFC 6455 §5.5: control frames carry at most 125 bytes.
MAX_CONTROL_PAYLOAD_BYTES = 125

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA


class HandshakeError(ValueError):
    """The request is not a WebSocket opening handshake this server accepts (HTTP 400)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Text:
    """A complete text message (its fragments joined), UTF-8 checked."""

    data: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class Ping:
    """A ping: answer with a pong carrying ``data`` (§5.5.2)."""

    data: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class Closed:
    """The client's close frame (§5.5.1); ``code`` is None when it carried none."""

    code: int | None


@dataclasses.dataclass(frozen=True, slots=True)
class Failed:
    """The client broke the protocol: close with ``code``, say ``reason``; read no more."""

    code: CloseCode
    reason: str


ClientEvent = Text | Ping | Closed | Failed


def accept_headers(method: str, headers: Mapping[str, str]) -> dict[str, str]:
    """The headers of the 101 answer to an opening handshake (RFC 6455 §4.2.1, §4.2.2).

    Args:
        method: the request method.
        headers: the request headers (case-insensitive mapping).

    Returns:
        ``Upgrade``, ``Connection`` and ``Sec-WebSocket-Accept``; no extension, no
        subprotocol (whatever the client offered).

    Raises:
        HandshakeError: not a GET, no ``Upgrade: websocket`` / ``Connection: upgrade``,
            a version other than 13, or a key that is not 16 bytes in base64.
    """
    if method != "GET":
        raise HandshakeError("a WebSocket handshake is a GET")
    if headers.get("Upgrade", "").strip().lower() != "websocket":
        raise HandshakeError("no Upgrade: websocket header")
    tokens = {t.strip().lower() for t in headers.get("Connection", "").split(",")}
    if "upgrade" not in tokens:
        raise HandshakeError("no Connection: upgrade header")
    if headers.get("Sec-WebSocket-Version", "").strip() != "13":
        raise HandshakeError("unsupported Sec-WebSocket-Version (13 only)")
    key = headers.get("Sec-WebSocket-Key", "").strip()
    try:
        raw = base64.b64decode(key.encode(), validate=True)
    except ValueError as err:
        raise HandshakeError("Sec-WebSocket-Key is not base64") from err
    if len(raw) != 16:
        raise HandshakeError("Sec-WebSocket-Key is not 16 bytes")
    accept = base64.b64encode(hashlib.sha1(key.encode() + ACCEPT_GUID).digest()).decode()  # noqa: S324 - RFC 6455 §4.2.2
    return {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": accept}


def unmask(payload: bytes, mask: bytes) -> bytes:
    """``payload`` XOR the 4-byte ``mask`` repeated (§5.3), as one big-integer XOR."""
    size = len(payload)
    if not size:
        return payload
    key = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")


class ClientFrames:
    """Reads the frames a client sends on one connection.

    Args:
        max_message_bytes: a message (all its fragments) larger than this fails with
            1009 as soon as a frame header announces it, before its payload is read.
    """

    __slots__ = ("_buffer", "_done", "_fragments", "max_message_bytes")

    def __init__(self, max_message_bytes: int) -> None:
        self.max_message_bytes = max_message_bytes
        self._buffer = b""
        #: the fragments of a text message in progress, joined as they arrive (None: none
        #: in progress); one buffer, not a list: an empty or one-byte continuation costs
        #: its bytes, not an object each (a list grew without bound on empty ones)
        self._fragments: bytearray | None = None
        #: a close or a failure was read: everything after it is ignored (§5.5.1)
        self._done = False

    def feed(self, data: bytes) -> list[ClientEvent]:
        """The events completed by ``data`` (bytes as they arrived, any split).

        After a :class:`Closed` or :class:`Failed` event nothing more is read.
        """
        if self._done:
            return []
        buffer = self._buffer + data if self._buffer else data
        events: list[ClientEvent] = []
        offset = 0
        size = len(buffer)
        while not self._done:
            if size - offset < 2:
                break
            first, second = buffer[offset], buffer[offset + 1]
            length = second & 0x7F
            head = 2
            if length == 126:
                head = 4
                if size - offset < head:
                    break
                length = int.from_bytes(buffer[offset + 2 : offset + 4], "big")
            elif length == 127:
                head = 10
                if size - offset < head:
                    break
                length = int.from_bytes(buffer[offset + 2 : offset + 10], "big")
            failure = self._check_header(first, second, length)
            if failure is not None:
                events.append(failure)
                self._done = True
                break
            end = offset + head + 4 + length
            if size < end:
                break
            mask = buffer[offset + head : offset + head + 4]
            payload = unmask(buffer[offset + head + 4 : end], mask)
            offset = end
            event = self._frame(first & 0x80 != 0, first & 0x0F, payload)
            if event is not None:
                events.append(event)
                if isinstance(event, Closed | Failed):
                    self._done = True
        self._buffer = b"" if self._done else buffer[offset:]
        return events

    def _check_header(self, first: int, second: int, length: int) -> Failed | None:
        """A failure announced by a frame header alone (§5.2, §5.3, §5.5), else None."""
        opcode = first & 0x0F
        if first & 0x70:
            return Failed(CloseCode.PROTOCOL_ERROR, "reserved bits set (no extension)")
        if not second & 0x80:
            return Failed(CloseCode.PROTOCOL_ERROR, "client frames must be masked")
        if length >> 63:  # §5.2: a 64-bit length's most significant bit MUST be 0
            return Failed(CloseCode.PROTOCOL_ERROR, "64-bit length with its top bit set")
        if opcode >= OP_CLOSE:
            if opcode not in (OP_CLOSE, OP_PING, OP_PONG):
                return Failed(CloseCode.PROTOCOL_ERROR, "unknown opcode")
            if not first & 0x80 or length > MAX_CONTROL_PAYLOAD_BYTES:
                return Failed(CloseCode.PROTOCOL_ERROR, "bad control frame")
            return None
        if opcode == OP_BINARY:
            return Failed(CloseCode.UNSUPPORTED_DATA, "binary messages are not supported")
        if opcode == OP_TEXT:
            if self._fragments is not None:
                return Failed(CloseCode.PROTOCOL_ERROR, "new message inside a fragmented one")
        elif opcode == OP_CONTINUATION:
            if self._fragments is None:
                return Failed(CloseCode.PROTOCOL_ERROR, "continuation without a message")
        else:
            return Failed(CloseCode.PROTOCOL_ERROR, "unknown opcode")
        held = len(self._fragments) if self._fragments is not None else 0
        if held + length > self.max_message_bytes:
            return Failed(CloseCode.MESSAGE_TOO_BIG, "message too big")
        return None

    def _frame(self, fin: bool, opcode: int, payload: bytes) -> ClientEvent | None:
        if opcode == OP_PING:
            return Ping(payload)
        if opcode == OP_PONG:
            return None  # unsolicited pongs are allowed and ignored (§5.5.3)
        if opcode == OP_CLOSE:
            return _close_event(payload)
        if not fin:
            if self._fragments is None:
                self._fragments = bytearray()
            self._fragments += payload
            return None
        if self._fragments is not None:
            self._fragments += payload
            payload = bytes(self._fragments)
            self._fragments = None
        try:
            payload.decode()
        except UnicodeDecodeError:
            return Failed(CloseCode.INVALID_DATA, "text message is not UTF-8")
        return Text(payload)


def _close_event(payload: bytes) -> Closed | Failed:
    """The client's close frame: no body, or a valid code and a UTF-8 reason (§5.5.1, §7.4)."""
    if not payload:
        return Closed(None)
    if len(payload) < 2:
        return Failed(CloseCode.PROTOCOL_ERROR, "close frame of one byte")
    code = int.from_bytes(payload[:2], "big")
    if not (1000 <= code <= 1014 and code not in (1004, 1005, 1006)) and not (3000 <= code <= 4999):
        return Failed(CloseCode.PROTOCOL_ERROR, "invalid close code")
    try:
        payload[2:].decode()
    except UnicodeDecodeError:
        return Failed(CloseCode.INVALID_DATA, "close reason is not UTF-8")
    return Closed(code)
