"""Property tests: whatever bytes come in, parse_telegram gives an Event or TelegramError.

Inputs are random bytes, random XML-ish text, and real-format telegrams (yure's
fixtures and, where present, JMA's reference set) with text nodes replaced, elements
dropped or duplicated, and byte ranges overwritten. Deterministic (derandomize).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REFERENCE_DIR
from tests.ingest.test_telegram_details import check_wire
from yure.geo.codes import PREF_CODES
from yure.ingest.errors import TelegramError
from yure.ingest.event import Event, event_to_json
from yure.ingest.telegram import parse_telegram

FIXTURES = Path(__file__).parent / "fixtures"
REFUSED_FIXTURES = {
    "billion_laughs.xml",
    "external_entity.xml",
    "not_jma.xml",
    "wrong_namespace.xml",
}
GOOD_FIXTURES = sorted(
    path.read_bytes() for path in FIXTURES.glob("*.xml") if path.name not in REFUSED_FIXTURES
)
REFERENCE_TELEGRAMS = sorted(
    path.read_bytes()
    for path in (REFERENCE_DIR / "jma" / "xml").glob("*.xml")
    if path.stat().st_size < 50_000
)
FUZZ = settings(
    derandomize=True,
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: Values that sit on the parser's edges, swapped into text nodes.
EDGE_VALUES = [
    "", " ", "NaN", "nan", "inf", "-0", "+0", "1e9", "0x10", "１", "-1", "999999999999",
    "5-", "5+", "6-", "7", "8", "over", "不明", "震度５弱以上未入電", "通常", "訓練", "試験",
    "発表", "訂正", "取消", "00", "50", "51", "52", "53", "60", "62", "71", "72", "73", "99",
    "+35.0+139.0/", "+3500.0+13900.0-10000/", "+35+139+0/", "+99.9+999.9/", "/",
    "2024-01-01T00:00:00", "2024-01-01T00:00:00+09:00", "2024-13-45T99:00:00Z", "&amp;",
    "震源・震度に関する情報", "遠地地震に関する情報", "津波警報・注意報・予報a", "312", "9040",
    "9931", "220", "13", "48", "\u3000", "\x00",
]  # fmt: skip

#: Characters allowed in XML text (mostly: control characters would only test expat).
XML_CHARS = st.characters(blacklist_categories=("Cs", "Cc"))
_TEXT_NODE = re.compile(rb">([^<]*)<")
_LEAF_ELEMENT = re.compile(rb"<([A-Za-z_:][\w:.-]*)(?:\s[^<>]*)?>[^<]*</\1>")


def check(data: bytes, file_name: str | None = None) -> None:
    """The property: an Event that serializes cleanly, or TelegramError."""
    try:
        event = parse_telegram(data, file_name=file_name)
    except TelegramError:
        return
    assert isinstance(event, Event)
    assert list(event.prefs) == sorted(set(event.prefs))
    assert set(event.prefs) <= set(PREF_CODES)
    if event.hypocenter is not None:
        for value in (event.hypocenter.lat, event.hypocenter.lon, event.hypocenter.magnitude):
            assert value is None or math.isfinite(value)
    wire = orjson.dumps(event_to_json(event))

    def no_constants(name: str) -> float:
        raise AssertionError(f"{name} in {wire!r}")

    json.loads(wire, parse_constant=no_constants)
    check_wire(event_to_json(event))  # issue 12's contract: keys, times, coordinates


@st.composite
def mutated(draw: st.DrawFn, sources: list[bytes]) -> bytes:
    data = draw(st.sampled_from(sources))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        operation = draw(st.sampled_from(["text", "drop", "duplicate", "bytes"]))
        if operation == "text":
            nodes = list(_TEXT_NODE.finditer(data))
            node = nodes[draw(st.integers(min_value=0, max_value=len(nodes) - 1))]
            value = draw(st.one_of(st.sampled_from(EDGE_VALUES), st.text(XML_CHARS, max_size=12)))
            escaped = value.replace("&", "&amp;").replace("<", "&lt;").encode()
            data = data[: node.start(1)] + escaped + data[node.end(1) :]
        elif operation in ("drop", "duplicate"):
            leaves = list(_LEAF_ELEMENT.finditer(data))
            if not leaves:
                continue
            leaf = leaves[draw(st.integers(min_value=0, max_value=len(leaves) - 1))]
            middle = b"" if operation == "drop" else leaf.group() * 2
            data = data[: leaf.start()] + middle + data[leaf.end() :]
        else:
            start = draw(st.integers(min_value=0, max_value=len(data)))
            length = draw(st.integers(min_value=0, max_value=8))
            data = data[:start] + draw(st.binary(max_size=8)) + data[start + length :]
    return data


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    check(data)


@FUZZ
@given(
    st.lists(
        st.sampled_from(
            ["<", ">", "</", "/>", "=", '"', "Report", "Head", "Body", "Control", " ", "&",
             'xmlns="http://xml.kishou.go.jp/jmaxml1/"', "<!DOCTYPE x>", "<?xml?>", "震度"]
        ),
        max_size=40,
    ).map(lambda parts: "".join(parts).encode())
)  # fmt: skip
def test_random_markup(data: bytes) -> None:
    check(data)


@FUZZ
@given(mutated(GOOD_FIXTURES), st.sampled_from([None, "x_VXSE53_y.xml", "VTSE41.xml"]))
def test_mutated_fixtures(data: bytes, file_name: str | None) -> None:
    check(data, file_name)


@pytest.mark.reference
@pytest.mark.skipif(not REFERENCE_TELEGRAMS, reason="reference telegrams absent")
@FUZZ
@given(mutated(REFERENCE_TELEGRAMS or [b"<x/>"]))
def test_mutated_reference_telegrams(data: bytes) -> None:
    check(data)


def test_the_fixture_set_is_what_the_fuzzer_mutates() -> None:
    # The sources must be real telegrams (all parse), not refused documents.
    assert len(GOOD_FIXTURES) >= 15
    for data in GOOD_FIXTURES:
        assert isinstance(parse_telegram(data), Event)
