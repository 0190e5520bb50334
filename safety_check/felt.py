""" "揺れた" felt reports grouped into bursts per prefecture (pure; time is passed in).

P2P地震情報 groups its 地震感知情報 (code 561) the same way: a report that arrives more
than 40 s after the previous one starts a new event (p2pquake/userquake-aggregator,
``pkg/aggregate/compatible.go``: ``Sub(previous) > 40*time.Second``). yure does this per
prefecture, counts yure's own one-tap reports and relayed P2P 561 records separately, and
publishes an aggregate (kind ``felt``, unofficial) as the burst grows: the first report
at once, later growth at most every ``min_interval_s`` so a swarm of taps does not flood the
timeline. Each publication replaces the previous one of the same burst.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum

#: Quiet gap that ends a burst, from P2P地震情報's aggregator (see module docstring).
FELT_GAP_S = 40.0
#: Growth of a burst is published at most this often (the first report is immediate).
FELT_PUBLISH_INTERVAL_S = 2.0


class FeltSource(StrEnum):
    """Who felt it: a yure account (one tap) or a P2P地震情報 561 record."""

    USER = "user"
    P2P = "p2p"


@dataclasses.dataclass(frozen=True, slots=True)
class FeltBurst:
    """The reports of one prefecture separated from the others by quiet gaps."""

    pref: str
    started_at: float
    last_at: float
    user_count: int = 0
    p2p_count: int = 0
    #: ``total`` at the last publication; 0 means never published.
    published_total: int = 0
    published_at: float | None = None

    @property
    def total(self) -> int:
        """All reports of the burst."""
        return self.user_count + self.p2p_count

    @property
    def key(self) -> str:
        """Stable identity of the burst: prefecture and start in milliseconds."""
        return f"felt:{self.pref}:{round(self.started_at * 1000)}"

    @property
    def publication_key(self) -> str:
        """Timeline key of the aggregate that shows the burst as it is now."""
        return f"{self.key}:{self.total}"

    @property
    def previous_publication_key(self) -> str | None:
        """Timeline key of the last published aggregate of this burst, if any."""
        return None if self.published_total == 0 else f"{self.key}:{self.published_total}"


def belongs_to(burst: FeltBurst | None, at: float, gap_s: float = FELT_GAP_S) -> bool:
    """Whether a report at ``at`` extends ``burst`` (no longer than ``gap_s`` after its last
    report, and not from before its start by more than the gap)."""
    if burst is None:
        return False
    return burst.started_at - gap_s <= at <= burst.last_at + gap_s


def is_stale(burst: FeltBurst | None, at: float, gap_s: float = FELT_GAP_S) -> bool:
    """A report older than the current burst (late P2P relay): dropped, since the burst it
    belonged to is over and published."""
    return burst is not None and at < burst.started_at - gap_s


def add_report(
    burst: FeltBurst | None,
    *,
    pref: str,
    source: FeltSource,
    at: float,
    gap_s: float = FELT_GAP_S,
) -> FeltBurst | None:
    """The burst after one report, or None when the report is stale.

    A report after a quiet gap starts a new burst; otherwise it is counted in the current
    one (``last_at`` only moves forward; the start never moves, it is the burst's identity).
    """
    if is_stale(burst, at, gap_s):
        return None
    if burst is None or not belongs_to(burst, at, gap_s):
        burst = FeltBurst(pref=pref, started_at=at, last_at=at)
    else:
        burst = dataclasses.replace(burst, last_at=max(burst.last_at, at))
    if source is FeltSource.USER:
        return dataclasses.replace(burst, user_count=burst.user_count + 1)
    return dataclasses.replace(burst, p2p_count=burst.p2p_count + 1)


def publication_due(
    burst: FeltBurst, now: float, min_interval_s: float = FELT_PUBLISH_INTERVAL_S
) -> bool:
    """Whether the burst has unpublished growth that may be published now."""
    if burst.total <= burst.published_total:
        return False
    return burst.published_at is None or now - burst.published_at >= min_interval_s


def mark_published(burst: FeltBurst, now: float) -> FeltBurst:
    """The burst after its current state was published."""
    return dataclasses.replace(burst, published_total=burst.total, published_at=now)


def is_over(burst: FeltBurst, now: float, gap_s: float = FELT_GAP_S) -> bool:
    """True once the quiet gap has passed: no later report can join this burst."""
    return now - burst.last_at > gap_s
