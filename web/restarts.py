"""When the supervisor starts a dead worker again (core: times in, times out; no sleeping).

Each worker has its own capped exponential backoff with jitter (:class:`yure.backoff.Backoff`):
a worker that keeps dying at once is restarted ever more slowly, up to
:data:`RESTART_CAP_S`; one that ran :data:`HEALTHY_RUN_S` or longer before dying starts again
from :data:`RESTART_BASE_S` (issue 10 item 12: the backoff used to grow for the life of the
process, so after ~6 crashes every later one waited 15–30 s). The plan only says *when*:
the supervisor waits on its workers with :meth:`RestartPlan.wait_s` as the timeout, so a
worker waiting out its backoff never keeps it from noticing and restarting another.
"""

from __future__ import annotations

import random

from yure.backoff import Backoff

#: A worker that dies is restarted after this pause (doubling, capped, jittered).
RESTART_BASE_S = 0.5
RESTART_CAP_S = 30.0
#: A worker that ran this long before dying was healthy: its backoff starts over.
HEALTHY_RUN_S = 60.0


class RestartPlan:
    """Start times and backoffs of ``workers`` workers, all started at ``now``."""

    def __init__(self, workers: int, *, now: float, rng: random.Random | None = None) -> None:
        self._backoffs = [
            Backoff(base_s=RESTART_BASE_S, cap_s=RESTART_CAP_S, rng=rng) for _ in range(workers)
        ]
        self._started_at = [now] * workers
        #: Dead workers waiting for their restart: index → when it is due.
        self.pending: dict[int, float] = {}

    def died(self, index: int, now: float) -> float:
        """Worker ``index`` was found dead at ``now``: when to start it again."""
        backoff = self._backoffs[index]
        if now - self._started_at[index] >= HEALTHY_RUN_S:
            backoff.reset()
        due = now + backoff.next_delay()
        self.pending[index] = due
        return due

    def due(self, now: float) -> list[int]:
        """Dead workers whose restart is due at ``now``, soonest first."""
        ready = sorted((at, i) for i, at in self.pending.items() if at <= now)
        return [index for _, index in ready]

    def started(self, index: int, now: float) -> None:
        """Worker ``index`` was (re)started at ``now``."""
        self.pending.pop(index, None)
        self._started_at[index] = now

    def wait_s(self, now: float, *, ceiling_s: float) -> float:
        """How long the supervisor may wait for a worker to die before a restart is due."""
        soonest = min(self.pending.values(), default=now + ceiling_s)
        return max(0.0, min(ceiling_s, soonest - now))
