"""web.restarts: when the supervisor starts a dead worker again (issue 10 item 12)."""

from __future__ import annotations

import random

from yure.web.restarts import HEALTHY_RUN_S, RESTART_BASE_S, RESTART_CAP_S, RestartPlan


def plan(workers: int = 2) -> RestartPlan:
    return RestartPlan(workers, now=0.0, rng=random.Random(5))


def test_quick_crashes_back_off_up_to_the_cap() -> None:
    restarts = plan()
    now = 0.0
    delays = []
    for _ in range(12):
        now += 0.1  # dies at once after each start
        due = restarts.died(0, now)
        delays.append(due - now)
        now = due
        assert restarts.due(now) == [0]
        restarts.started(0, now)
    assert delays[0] <= RESTART_BASE_S
    assert delays[-1] >= RESTART_CAP_S / 2
    assert max(delays) <= RESTART_CAP_S


def test_a_healthy_run_resets_the_backoff() -> None:
    """After ~6 crashes every later crash used to wait 15–30 s for the life of the process."""
    restarts = plan()
    now = 0.0
    for _ in range(8):
        now = restarts.died(0, now + 0.1)
        restarts.started(0, now)
    now += HEALTHY_RUN_S  # ran healthily
    due = restarts.died(0, now)
    assert due - now <= RESTART_BASE_S


def test_one_worker_waiting_never_delays_another() -> None:
    """The supervisor used to sleep the whole backoff, blind to other dead workers."""
    restarts = plan()
    now = 0.0
    for _ in range(8):
        now = restarts.died(0, now + 0.1)
        restarts.started(0, now)
    slow_due = restarts.died(0, now + 0.1)
    assert slow_due - now > 10
    fast_due = restarts.died(1, now + 0.2)
    assert fast_due - (now + 0.2) <= RESTART_BASE_S
    assert restarts.pending == {0: slow_due, 1: fast_due}
    assert restarts.due(fast_due) == [1]  # worker 1 first, worker 0 still waiting
    restarts.started(1, fast_due)
    assert restarts.wait_s(fast_due, ceiling_s=1.0) == 1.0
    assert restarts.wait_s(slow_due - 0.25, ceiling_s=1.0) == 0.25
    assert restarts.due(slow_due) == [0]
    restarts.started(0, slow_due)
    assert restarts.pending == {}
