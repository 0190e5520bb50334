"""frames: WebSocket/SSE encodings (checked against websockets' own parser) and coalescing."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.frames import Close, Frame, Opcode
from websockets.streams import StreamReader

from yure.broadcast.envelope import Entry
from yure.broadcast.frames import (
    CloseCode,
    coalesce,
    cursor_expired_message,
    event_message,
    http_chunk,
    sse_event,
    sse_frames,
    ws_close_frame,
    ws_frames,
    ws_text_frame,
)


def parse_frames(data: bytes) -> list[Frame]:
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    frames = []
    while reader.buffer:
        parser = Frame.parse(reader.read_exact, mask=False)
        try:
            next(parser)
        except StopIteration as done:
            frames.append(done.value)
            continue
        raise AssertionError("incomplete frame")
    return frames


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
def test_ws_text_frame_lengths(size: int) -> None:
    payload = b"x" * size
    [frame] = parse_frames(ws_text_frame(payload))
    assert frame.opcode is Opcode.TEXT and frame.fin and frame.data == payload


def test_ws_close_frame() -> None:
    [frame] = parse_frames(ws_close_frame(CloseCode.SLOW_CONSUMER, "slow" * 100))
    close = Close.parse(frame.data)
    assert close.code == 4000 and len(close.reason.encode()) <= 123


@given(st.text(max_size=130) | st.text(st.characters(min_codepoint=0x800), min_size=35))
def test_ws_close_frame_reason_stays_utf8(reason: str) -> None:
    """A reason cut to 123 bytes is cut between characters (§5.5.1: the body is UTF-8;
    a browser fails a connection whose close reason is not, and never sees the code)."""
    [frame] = parse_frames(ws_close_frame(CloseCode.POLICY_VIOLATION, reason))
    close = Close.parse(frame.data)  # raises UnicodeDecodeError on a broken reason
    sent = reason.encode(errors="replace").decode()  # a lone surrogate is sent as "?"
    assert close.code == 1008 and sent.startswith(close.reason)
    assert len(close.reason.encode()) > 119 or close.reason == sent


def entry(n: int, payload: bytes = b'{"n":1}') -> Entry:
    return Entry(id=f"{n}-0", key=f"k{n}", kind="quake", prefs=("13",), payload=payload)


def test_event_message_splices_payload() -> None:
    msg = orjson.loads(event_message(entry(7, b'{"a":"\\u3042"}')))
    assert msg == {"type": "event", "id": "7-0", "event": {"a": "あ"}}
    assert orjson.loads(cursor_expired_message("5-0")) == {
        "type": "cursor_expired",
        "oldest": "5-0",
    }


@given(st.lists(st.integers(1, 3000), min_size=1, max_size=60), st.integers(2, 10))
def test_coalesce_keeps_order_and_bounds(sizes: list[int], max_items: int) -> None:
    messages = [
        b'{"type":"event","id":"%d-0","event":{"p":"%s"}}' % (i, b"x" * s)
        for i, s in enumerate(sizes)
    ]
    frames = coalesce(messages, max_bytes=8000, max_items=max_items)
    flattened: list[bytes] = []
    for frame in frames:
        obj = orjson.loads(frame)
        if obj["type"] == "events":
            assert 2 <= len(obj["items"]) <= max_items
            assert len(frame) <= 8000 + 40 + max(sizes) + 60
            flattened += [orjson.dumps(item) for item in obj["items"]]
        else:
            flattened.append(frame)
    assert flattened == messages
    if len(messages) == 1:
        assert frames == messages


def test_ws_frames_counts() -> None:
    messages = [event_message(entry(i)) for i in range(5)]
    data, count = ws_frames(messages, max_bytes=10_000, max_items=2)
    frames = parse_frames(data)
    assert count == len(frames) == 3
    assert orjson.loads(frames[-1].data)["type"] == "event"


def test_sse_encoding() -> None:
    assert sse_event(b'{"type":"ready"}') == b'data: {"type":"ready"}\n\n'
    assert sse_event(b"{}", "5-0") == b"id: 5-0\ndata: {}\n\n"
    assert sse_event(b"{}", "5-0", event="checkin") == b"id: 5-0\nevent: checkin\ndata: {}\n\n"
    assert sse_event(b"{}", event="snapshot") == b"event: snapshot\ndata: {}\n\n"
    entries = [entry(1), entry(2)]
    body = sse_frames(entries, [event_message(e) for e in entries])
    size, _, rest = body.partition(b"\r\n")
    assert int(size, 16) == len(rest) - 2 and rest.endswith(b"\r\n")
    assert rest.startswith(b"id: 1-0\ndata: {")
    assert http_chunk(b"abc") == b"3\r\nabc\r\n"
