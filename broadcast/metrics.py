"""Prometheus metrics of one broadcaster process (prometheus-client).

Several worker processes (``yure serve --workers N``) share one port, so a scrape
lands on any of them. We use prometheus-client's *multiprocess mode*: ``yure
serve`` starts each worker with ``PROMETHEUS_MULTIPROC_DIR`` pointing at an empty
directory in its environment, each worker's metrics live in memory-mapped files there, and
whichever worker answers ``GET /metrics`` sums them (connections with
``livesum``, so a dead worker's connections disappear). With one process the
metrics live in a plain per-app registry. docs/operations.md says the same.

The feed age is read from Redis at scrape time (every worker can answer it), so
it is rendered from a one-scrape registry rather than stored in a gauge.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

#: Content-Type of the Prometheus text format 0.0.4.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The counters and gauges the broadcaster and the ingest wiring update."""

    def __init__(self, multiprocess_dir: Path | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry()
        # In multiprocess mode metrics are not registered anywhere: the collector reads
        # every process's files at scrape time.
        reg = None if multiprocess_dir is not None else self.registry
        self.connections = Gauge(
            "yure_stream_connections",
            "Open stream connections",
            ["transport"],
            registry=reg,
            multiprocess_mode="livesum",
        )
        self.events_sent = Counter(
            "yure_events_sent", "Events written to connections", ["transport"], registry=reg
        )
        self.frames_sent = Counter(
            "yure_frames_sent",
            "WebSocket frames / SSE chunks of events written to connections",
            ["transport"],
            registry=reg,
        )
        self.slow_disconnects = Counter(
            "yure_slow_disconnects",
            "Connections closed because their send buffer overflowed",
            ["transport"],
            registry=reg,
        )
        self.rejected = Counter(
            "yure_connections_rejected",
            "Connections refused or closed for a limit or a protocol error",
            ["reason"],
            registry=reg,
        )
        self.timeline_reads = Counter(
            "yure_timeline_entries_read", "Entries the hub read from the timeline", registry=reg
        )
        self.timeline_errors = Counter(
            "yure_timeline_errors", "Redis errors while reading the timeline", registry=reg
        )
        self.appends = Counter(
            "yure_timeline_appends", "Entries the ingest appended to the timeline", registry=reg
        )
        self.ingest_errors = Counter(
            "yure_ingest_errors", "Ingest poll and append errors", registry=reg
        )
        self.ws_connections = self.connections.labels("ws")
        self.sse_connections = self.connections.labels("sse")

    def render(self, *, feed_age_s: float | None, feed_fresh: bool | None) -> bytes:
        """The Prometheus text exposition of every process plus the feed age now."""
        if self.multiprocess_dir is not None:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
            body = generate_latest(registry)
        else:
            body = generate_latest(self.registry)
        scrape = CollectorRegistry()
        scrape.register(_FeedCollector(feed_age_s, feed_fresh))
        return body + generate_latest(scrape)


class _FeedCollector(Collector):
    """The feed gauges of one scrape (metric families, so no value files are written)."""

    def __init__(self, age_s: float | None, fresh: bool | None) -> None:
        self.age_s = age_s
        self.fresh = fresh

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily(
            "yure_feed_age_seconds",
            "Seconds since the last successful JMA poll (NaN when never)",
            value=math.nan if self.age_s is None else self.age_s,
        )
        yield GaugeMetricFamily(
            "yure_feed_fresh",
            "1 when the JMA feed was polled within feed_stale_s",
            value=1.0 if self.fresh else 0.0,
        )
