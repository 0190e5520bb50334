"""ingest.ledger: serial order, corrections, cancellations, stale and duplicate items."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ingest.telegrams import JST
from yure.ingest.errors import IngestError
from yure.ingest.event import Event, InfoType, Kind, Status
from yure.ingest.ledger import (
    MAX_FUTURE_SKEW_S,
    MAX_STATE_BYTES,
    Decision,
    Publication,
    StreamState,
    Verdict,
    VerdictCounters,
    decide,
    decode_state,
    encode_state,
)
from yure.ingest.merge import item_key

T0 = datetime(2024, 4, 17, 23, 20, tzinfo=JST)
#: Receipt time of items by default: after every report time used here.
LATER = T0 + timedelta(days=1)


def ev(
    serial: int | None = 1,
    *,
    minute: int = 0,
    info: InfoType = InfoType.ISSUED,
    status: Status = Status.ACTUAL,
    type_code: str = "VXSE53",
    event_id: str = "20240417231454",
) -> Event:
    return Event(
        type_code=type_code,
        kind=Kind.QUAKE,
        status=status,
        info_type=info,
        event_id=event_id,
        serial=serial,
        reported_at=T0 + timedelta(minutes=minute),
        title="震源・震度情報",
        headline="",
    )


def run(
    state: StreamState | None,
    event: Event,
    *,
    partial: bool = False,
    received_at: datetime | None = None,
) -> Decision:
    received = LATER if received_at is None else received_at
    return decide(state, event, item_key(event, partial=partial), received_at=received)


def test_first_item_of_a_stream_is_new() -> None:
    first = ev(1)
    decision = run(None, first)
    assert decision.verdict is Verdict.NEW
    assert decision.publication == Publication(item_key(first), None, first)
    assert decision.state == StreamState(item_key(first), (1, int(first.reported_at.timestamp())))
    assert decision.changed


def test_same_key_again_is_a_duplicate() -> None:
    state = run(None, ev(1)).state
    decision = run(state, ev(1))
    assert decision.verdict is Verdict.DUPLICATE
    assert decision.publication is None and decision.state == state and not decision.changed


@pytest.mark.parametrize(
    ("later", "verdict"),
    [
        (ev(2, minute=5), Verdict.REPLACES),  # a later serial supersedes
        (ev(2, minute=5, info=InfoType.CORRECTED), Verdict.REPLACES),  # 訂正 replaces
        (ev(3, minute=20, info=InfoType.CANCELLED), Verdict.REPLACES),  # 取消 retracts
        (ev(2, minute=0, type_code="VXSE61"), Verdict.REPLACES),  # same minute, next serial
    ],
)
def test_newer_items_replace_the_newest(later: Event, verdict: Verdict) -> None:
    first = ev(1, type_code=later.type_code)
    state = run(None, first).state
    decision = run(state, later)
    assert decision.verdict is verdict
    assert decision.publication is not None
    assert decision.publication.replaces == item_key(first)
    assert decision.publication.key == item_key(later)
    assert decision.state is not None and decision.state.key == item_key(later)


def test_quake_issue_in_the_same_minute_with_the_same_content_is_one_item() -> None:
    # The cross-source key of VXSE51/52/53 has no serial (P2P does not carry it): two
    # issues in one ReportDateTime minute with the same max intensity and hypocentre
    # are the same item. JMA does not issue those; documented in docs/ingest.md.
    state = run(None, ev(1)).state
    assert run(state, ev(2, minute=0)).verdict is Verdict.DUPLICATE


def test_late_lower_serial_is_stale_and_changes_nothing() -> None:
    state = run(None, ev(3, minute=10)).state
    decision = run(state, ev(2, minute=5))
    assert decision.verdict is Verdict.STALE
    assert decision.publication is None and decision.state == state


def test_serial_beats_report_time() -> None:
    state = run(None, ev(2, minute=0)).state
    assert run(state, ev(1, minute=9)).verdict is Verdict.STALE


def test_serial_less_types_are_ordered_by_report_time() -> None:
    first = ev(None, minute=0, type_code="VXSE51")
    state = run(None, first).state
    assert run(state, ev(None, minute=-2, type_code="VXSE51")).verdict is Verdict.STALE
    newer = run(state, ev(None, minute=3, type_code="VXSE51", info=InfoType.CANCELLED))
    assert newer.verdict is Verdict.REPLACES


@pytest.mark.parametrize("status", [Status.EXERCISE, Status.TEST])
def test_training_and_test_never_publish_and_leave_state(status: Status) -> None:
    assert run(None, ev(1, status=status)) == Decision(Verdict.NOT_PUBLIC, None, None)
    state = run(None, ev(1)).state
    decision = run(state, ev(2, minute=5, status=status))
    assert decision == Decision(Verdict.NOT_PUBLIC, None, state)


def test_cancellation_of_an_unknown_item_is_still_published() -> None:
    decision = run(None, ev(3, info=InfoType.CANCELLED))
    assert decision.verdict is Verdict.NEW


def test_same_rank_other_key_replaces() -> None:
    a = ev(None, type_code="VXSE51")
    b = ev(None, type_code="VXSE51", info=InfoType.CORRECTED)
    state = run(None, a).state
    decision = run(state, b)
    assert decision.verdict is Verdict.REPLACES


def test_partial_copy_never_replaces_a_complete_one_of_the_same_rank() -> None:
    complete = ev(None, type_code="VXSE51")
    state = run(None, complete).state
    assert run(state, complete, partial=True).verdict is Verdict.DUPLICATE
    # the other way round: the complete copy replaces the partial one
    partial_state = run(None, complete, partial=True).state
    decision = run(partial_state, complete)
    assert decision.verdict is Verdict.REPLACES
    assert decision.publication is not None
    assert decision.publication.replaces == item_key(complete, partial=True)


def test_counters_count_each_verdict_once() -> None:
    counters = VerdictCounters()
    for verdict in Verdict:
        counters.count(verdict)
    assert counters == VerdictCounters(
        published=2, duplicates=1, dropped_training=1, dropped_stale=1
    )


def test_state_round_trips() -> None:
    state = StreamState("jma:VXSE53:x", (3, 1713363600))
    assert decode_state(encode_state(state)) == state


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"[]",
        b'{"key": "k"}',
        b'{"key": 1, "rank": [1, 2]}',
        b'{"key": "k", "rank": [1]}',
        b'{"key": "k", "rank": [true, 2]}',
        b'{"key": "k", "rank": [1.5, 2]}',
        b" " * (MAX_STATE_BYTES + 1),
    ],
)
def test_bad_stored_state_raises_ingest_error(data: bytes) -> None:
    with pytest.raises(IngestError):
        decode_state(data)


def _replay(events: list[Event]) -> tuple[StreamState | None, list[Publication]]:
    state: StreamState | None = None
    published: list[Publication] = []
    for event in events:
        decision = run(state, event)
        if decision.publication is not None:
            published.append(decision.publication)
        state = decision.state
    return state, published


def _check_stream(delivered: list[Event]) -> None:
    state, published = _replay(delivered)
    newest = max(delivered, key=lambda e: (e.serial or -1, e.reported_at))
    assert state is not None
    assert state.key == item_key(newest)  # final state: the max serial
    ranks = [(p.event.serial or -1, p.event.reported_at) for p in published]
    assert ranks == sorted(set(ranks))  # nothing stale after a newer one, nothing twice
    for before, after in itertools.pairwise(published):
        assert after.replaces == before.key  # each one replaces the one it follows
    assert published[0].replaces is None
    assert sum(p.key == item_key(newest) for p in published) == 1
    # Deciding again from the final state publishes nothing: re-delivery is idempotent.
    assert all(run(state, e).publication is None for e in delivered)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_delivery_order_ends_at_the_max_serial(data: st.DataObject) -> None:
    count = data.draw(st.integers(min_value=1, max_value=12))
    # JMA: a later serial has a later (or, for EEW, the same) ReportDateTime; quake
    # information keys are per minute, so successive VXSE53 are at least a minute apart.
    type_code = data.draw(st.sampled_from(["VXSE53", "VXSE43", "VXSE61"]))
    low = 1 if type_code == "VXSE53" else 0
    gaps = data.draw(st.lists(st.integers(low, 10), min_size=count, max_size=count))
    minutes = [sum(gaps[: i + 1]) for i in range(count)]
    last_info = data.draw(st.sampled_from(list(InfoType)))
    events = [
        ev(
            i + 1,
            minute=minutes[i],
            info=last_info if i == count - 1 else InfoType.ISSUED,
            type_code=type_code,
        )
        for i in range(count)
    ]
    repeats = data.draw(st.lists(st.sampled_from(events), max_size=6))
    delivered = data.draw(st.permutations(events + repeats))
    _check_stream(list(delivered))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_serial_less_streams_end_at_the_latest_report(data: st.DataObject) -> None:
    minutes = data.draw(st.lists(st.integers(0, 600), min_size=1, max_size=10, unique=True))
    events = [ev(None, minute=m, type_code="VXSE51") for m in minutes]
    _check_stream(list(data.draw(st.permutations(events))))


def test_a_future_dated_item_ranks_at_its_receipt_and_is_flagged() -> None:
    """Issue 10 item 10: a telegram dated 2 h ahead must not silence the ones after it."""
    received = T0
    future = ev(None, type_code="VTSE41", minute=120)
    first = run(None, future, received_at=received)
    assert first.verdict is Verdict.NEW and first.future_dated
    assert first.state is not None and first.state.rank == (-1, int(received.timestamp()))
    later = ev(None, type_code="VTSE41", minute=1, info=InfoType.CORRECTED)
    second = run(first.state, later, received_at=received + timedelta(minutes=1, seconds=20))
    assert second.verdict is Verdict.REPLACES and not second.future_dated
    # an item reported before the future-dated one reached us is still older than it
    older = ev(None, type_code="VTSE41", minute=-1)
    assert run(first.state, older).verdict is Verdict.STALE


def test_a_little_ahead_is_not_flagged() -> None:
    item = ev(None, type_code="VTSE41", minute=1)
    decision = run(None, item, received_at=item.reported_at - timedelta(seconds=MAX_FUTURE_SKEW_S))
    assert not decision.future_dated


def test_a_stored_state_from_the_future_does_not_order_the_stream() -> None:
    """A state kept by an older yure from a future-dated telegram (or before the clock went
    back) is replaced by the next item, whatever its rank."""
    poisoned = StreamState("jma:VTSE41:old", (-1, int((T0 + timedelta(hours=2)).timestamp())))
    item = ev(None, type_code="VTSE41", minute=1)
    decision = run(poisoned, item, received_at=item.reported_at + timedelta(seconds=5))
    assert decision.verdict is Verdict.REPLACES
    assert decision.publication is not None and decision.publication.replaces == poisoned.key
    # within the skew it still orders: a lower rank is stale
    near = StreamState("jma:VTSE41:near", (-1, int((T0 + timedelta(seconds=30)).timestamp())))
    assert run(near, ev(None, type_code="VTSE41"), received_at=T0).verdict is Verdict.STALE


@given(
    st.lists(st.integers(min_value=-3 * 3600, max_value=3 * 3600), min_size=1, max_size=12),
    st.integers(min_value=0, max_value=3 * 3600),
)
@settings(max_examples=60, deadline=None)
def test_an_item_reported_after_every_earlier_receipt_is_always_published(
    offsets_s: list[int], gap_s: int
) -> None:
    """Whatever dates came before (however far ahead), a real item reported after all of
    them reached us is published."""
    state: StreamState | None = None
    received = T0
    for n, offset in enumerate(offsets_s):
        received = T0 + timedelta(seconds=10 * n)
        item = dataclasses.replace(
            ev(None, type_code="VTSE41"),
            reported_at=received + timedelta(seconds=offset),
            headline=str(n),
            event_id=str(n),
        )
        state = run(state, item, received_at=received).state
    real = dataclasses.replace(
        ev(None, type_code="VTSE41", info=InfoType.CORRECTED),
        reported_at=received + timedelta(seconds=1 + gap_s),
    )
    decision = run(state, real, received_at=real.reported_at + timedelta(seconds=3))
    assert decision.verdict in (Verdict.NEW, Verdict.REPLACES)
