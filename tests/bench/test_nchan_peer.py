"""The Nchan peer of the broadcast benchmark (bench/nchan_server.py) still works: the
load clients in Nchan mode get a published alert, and a reconnect with the last id
(``Last-Event-ID``) gets exactly the alerts it missed. Timing is the bench's business.

Skips when nginx or the Nchan module is missing, except under ``CI=true`` (``.ci/run``
installs both), so the peer's config cannot rot unnoticed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from bench.broadcast_bench import Target, alert, server_connections
from bench.clients import ClientPool
from bench.nchan_bench import NchanPublisher, event_frame
from bench.nchan_server import missing, nchan_server
from tests.broadcast.support import eventually

SUBSCRIBERS = 3
MISSED = 4
PREF = "13"
#: The clients connect from 127.0.<IP_BLOCK>.1 (the publisher from 127.0.0.1).
IP_BLOCK = 7


@pytest.fixture
def peer() -> Iterator[Target]:
    reason = missing()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: .ci/run installs it)")
        pytest.skip(reason)
    with nchan_server(workers=2) as target:
        assert target is not None
        yield target


def test_the_body_is_yure_s_event_frame() -> None:
    env = alert(7)
    frame = event_frame(env, "1700000000000-0")
    assert frame.startswith(b'{"type":"event","id":"1700000000000-0","event":{')
    assert frame.endswith(env.payload + b"}")


async def test_alert_arrives_and_resume_gets_exactly_the_missed(peer: Target) -> None:
    publisher = NchanPublisher(peer.port)
    pool = ClientPool("127.0.0.1", peer.port, peer.path, f"127.0.{IP_BLOCK}.1", nchan=True)
    try:
        await pool.connect([PREF] * SUBSCRIBERS)
        assert pool.stats.ready == SUBSCRIBERS
        await publisher.wait_subscribers(SUBSCRIBERS)
        pool.measure[0] = True
        await publisher.append(alert(0))
        await eventually(lambda: pool.stats.events == SUBSCRIBERS)
        assert len(pool.stats.latencies_ms) == SUBSCRIBERS
        pool.measure[0] = False
        last = await pool.close()
        assert len(set(last)) == 1 and last[0], last  # one channel: the same message id
        await eventually(lambda: server_connections(peer.port, IP_BLOCK) == 0)

        for seq in range(MISSED):
            await publisher.append(alert(seq, t0=False))
        await pool.connect([PREF] * SUBSCRIBERS, since=last)
        await publisher.wait_subscribers(SUBSCRIBERS)
        await eventually(lambda: pool.stats.events == SUBSCRIBERS * (1 + MISSED))
        resumed = [c.last_id for c in pool.clients]
        assert len(set(resumed)) == 1 and resumed[0] != last[0]
        # A marker after the replay: anything replayed twice would arrive before it.
        await publisher.append(alert(99, t0=False))
        await eventually(lambda: pool.stats.events == SUBSCRIBERS * (2 + MISSED))
        assert [c.last_id != resumed[0] for c in pool.clients] == [True] * SUBSCRIBERS
        assert pool.stats.events == SUBSCRIBERS * (2 + MISSED)
    finally:
        await pool.close()
        await publisher.aclose()
