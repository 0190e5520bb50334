"""websocket: the 101 answer and the reader of client frames (RFC 6455), fed frames that
websockets' own client encoder wrote, split at every point."""

from __future__ import annotations

import os
import struct
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.frames import Frame, Opcode

from yure.broadcast.frames import CloseCode
from yure.broadcast.websocket import (
    ClientEvent,
    ClientFrames,
    Closed,
    Failed,
    HandshakeError,
    Ping,
    Text,
    accept_headers,
    unmask,
)

MAX = 4096


def client(opcode: Opcode, data: bytes, *, fin: bool = True) -> bytes:
    """A frame as a client sends it (masked), by websockets' encoder."""
    return Frame(opcode, data, fin=fin).serialize(mask=True)


def raw(first: int, payload: bytes, *, masked: bool = True) -> bytes:
    """A frame built by hand (for what websockets refuses to write)."""
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", first, (0x80 if masked else 0) | length)
    else:
        head = struct.pack("!BBH", first, (0x80 if masked else 0) | 126, length)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + unmask(payload, mask)


def read(data: bytes, max_bytes: int = MAX) -> list[ClientEvent]:
    return ClientFrames(max_bytes).feed(data)


def failed(code: CloseCode) -> list[ClientEvent]:
    return [Failed(code, "")]


def codes(events: list[ClientEvent]) -> list[object]:
    """Events with the reason of a failure left out (its wording is free)."""
    return [Failed(e.code, "") if isinstance(e, Failed) else e for e in events]


SUBSCRIBE = b'{"type":"subscribe","prefs":["13"]}'
FRAGMENTED = (
    client(Opcode.TEXT, SUBSCRIBE[:5], fin=False)
    + client(Opcode.PING, b"hi")
    + client(Opcode.CONT, SUBSCRIBE[5:20], fin=False)
    + client(Opcode.PONG, b"")
    + client(Opcode.CONT, SUBSCRIBE[20:])
)


def test_handshake_answer_of_rfc_example() -> None:
    headers = {
        "Upgrade": "websocket",
        "Connection": "keep-alive, Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Extensions": "permessage-deflate",
        "Sec-WebSocket-Protocol": "chat",
    }
    # RFC 6455 §1.3's example; no extension and no subprotocol are ever accepted.
    assert accept_headers("GET", headers) == {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Accept": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
    }


GOOD = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
}


@pytest.mark.parametrize(
    ("method", "change"),
    [
        ("POST", {}),
        ("GET", {"Upgrade": "h2c"}),
        ("GET", {"Connection": "keep-alive"}),
        ("GET", {"Sec-WebSocket-Version": "8"}),
        ("GET", {"Sec-WebSocket-Key": "not base64!"}),
        ("GET", {"Sec-WebSocket-Key": "c2hvcnQ="}),
        ("GET", {"Sec-WebSocket-Key": ""}),
    ],
)
def test_handshake_refusals(method: str, change: dict[str, str]) -> None:
    with pytest.raises(HandshakeError):
        accept_headers(method, {**GOOD, **change})


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (client(Opcode.TEXT, SUBSCRIBE), [Text(SUBSCRIBE)]),
        (client(Opcode.TEXT, b""), [Text(b"")]),
        (FRAGMENTED, [Ping(b"hi"), Text(SUBSCRIBE)]),
        (client(Opcode.PONG, b"x"), []),
        (client(Opcode.CLOSE, b""), [Closed(None)]),
        (client(Opcode.CLOSE, struct.pack("!H", 1000) + "さよなら".encode()), [Closed(1000)]),
        (client(Opcode.CLOSE, struct.pack("!H", 4001)), [Closed(4001)]),
        # RFC 6455 §5.3: a server closes on an unmasked client frame.
        (raw(0x81, SUBSCRIBE, masked=False), failed(CloseCode.PROTOCOL_ERROR)),
        (client(Opcode.BINARY, b"\x00\x01"), failed(CloseCode.UNSUPPORTED_DATA)),
        (client(Opcode.BINARY, b"", fin=False), failed(CloseCode.UNSUPPORTED_DATA)),
        (client(Opcode.TEXT, b"\xff\xfe"), failed(CloseCode.INVALID_DATA)),
        (client(Opcode.CONT, b"x"), failed(CloseCode.PROTOCOL_ERROR)),
        (
            client(Opcode.TEXT, b"a", fin=False) + client(Opcode.TEXT, b"b"),
            failed(CloseCode.PROTOCOL_ERROR),
        ),
        (raw(0xC1, SUBSCRIBE), failed(CloseCode.PROTOCOL_ERROR)),  # RSV1 (no extension)
        (raw(0x83, b""), failed(CloseCode.PROTOCOL_ERROR)),  # reserved data opcode
        (raw(0x8B, b""), failed(CloseCode.PROTOCOL_ERROR)),  # reserved control opcode
        (raw(0x09, b"x"), failed(CloseCode.PROTOCOL_ERROR)),  # fragmented ping
        (raw(0x89, b"x" * 126), failed(CloseCode.PROTOCOL_ERROR)),  # control over 125
        (raw(0x88, b"\x03"), failed(CloseCode.PROTOCOL_ERROR)),  # close of one byte
        (raw(0x88, struct.pack("!H", 1005)), failed(CloseCode.PROTOCOL_ERROR)),
        (raw(0x88, struct.pack("!H", 999)), failed(CloseCode.PROTOCOL_ERROR)),
        (raw(0x88, struct.pack("!H", 1000) + b"\xff"), failed(CloseCode.INVALID_DATA)),
    ],
)
def test_events(data: bytes, expected: list[ClientEvent]) -> None:
    assert codes(read(data)) == expected


@given(st.data())
def test_any_split_reads_the_same(data: st.DataObject) -> None:
    stream = FRAGMENTED + client(Opcode.TEXT, "東京".encode()) + client(Opcode.CLOSE, b"")
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    frames = ClientFrames(MAX)
    events: list[ClientEvent] = []
    start = 0
    for cut in [*cuts, len(stream)]:
        events += frames.feed(stream[start:cut])
        start = cut
    assert events == [Ping(b"hi"), Text(SUBSCRIBE), Text("東京".encode()), Closed(None)]


def test_oversize_fails_on_the_header_alone() -> None:
    frame = client(Opcode.TEXT, b"x" * (MAX + 1))
    assert codes(read(frame[:4])) == failed(CloseCode.MESSAGE_TOO_BIG)
    assert codes(read(client(Opcode.TEXT, b"x" * MAX))) == [Text(b"x" * MAX)]


def test_oversize_counts_every_fragment() -> None:
    half = MAX // 2
    frames = ClientFrames(MAX)
    assert frames.feed(client(Opcode.TEXT, b"x" * half, fin=False)) == []
    assert frames.feed(client(Opcode.CONT, b"x" * half, fin=False)) == []
    assert codes(frames.feed(client(Opcode.CONT, b"x"))) == failed(CloseCode.MESSAGE_TOO_BIG)


def test_64_bit_lengths() -> None:
    big = b"y" * 70_000
    assert read(client(Opcode.TEXT, big), max_bytes=100_000) == [Text(big)]
    assert codes(read(client(Opcode.TEXT, big)[:10])) == failed(CloseCode.MESSAGE_TOO_BIG)


def test_64_bit_length_with_its_top_bit_set_is_a_protocol_error() -> None:
    """RFC 6455 §5.2: "the most significant bit MUST be 0" (not a size to compare)."""
    head = struct.pack("!BBQ", 0x81, 0x80 | 127, 2**63 + 5)
    assert codes(read(head, max_bytes=2**64)) == failed(CloseCode.PROTOCOL_ERROR)
    assert codes(read(head)) == failed(CloseCode.PROTOCOL_ERROR)


def test_nothing_is_read_after_a_close_or_a_failure() -> None:
    frames = ClientFrames(MAX)
    assert frames.feed(client(Opcode.CLOSE, b"") + client(Opcode.TEXT, b"late")) == [Closed(None)]
    assert frames.feed(client(Opcode.TEXT, b"later")) == []
    broken = ClientFrames(MAX)
    assert len(broken.feed(client(Opcode.BINARY, b"b") + client(Opcode.TEXT, b"x"))) == 1
    assert broken.feed(client(Opcode.TEXT, b"x")) == []


def test_fragments_are_released_after_the_message() -> None:
    frames = ClientFrames(MAX)
    frames.feed(FRAGMENTED)
    assert frames.feed(client(Opcode.TEXT, b"{}")) == [Text(b"{}")]


@given(st.binary(max_size=64), st.binary(min_size=4, max_size=4))
def test_unmask_is_xor(payload: bytes, mask: bytes) -> None:
    expected = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    assert unmask(payload, mask) == expected


@pytest.mark.parametrize("size", [125, 126, 65_535, 65_536])
def test_one_byte_at_a_time(size: int) -> None:
    frames = ClientFrames(100_000)
    data = client(Opcode.TEXT, b"z" * size)
    events = [e for i in range(len(data)) for e in frames.feed(data[i : i + 1])]
    assert events == [Text(b"z" * size)]


def test_a_message_in_tiny_fragments_holds_no_more_than_its_bytes() -> None:
    """Empty or one-byte continuations cost their bytes, not an object each: 100,000 empty
    fragments (600 KB sent) or a 4 KiB message in one-byte fragments hold about 4 KiB."""
    frames = ClientFrames(MAX)
    frames.feed(client(Opcode.TEXT, b"{", fin=False))
    empty = client(Opcode.CONT, b"", fin=False) * 10_000
    one_byte = client(Opcode.CONT, b"x", fin=False) * (MAX - 2)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(10):
            assert frames.feed(empty) == []
        assert frames.feed(one_byte) == []
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 2 * MAX, held
    assert frames.feed(client(Opcode.CONT, b"}")) == [Text(b"{" + b"x" * (MAX - 2) + b"}")]
