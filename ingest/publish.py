"""Where the ingest's output goes (driver module): each :class:`Publication` becomes one
entry of the public timeline, each P2P地震情報 felt report one count in yure's felt
bursts, and one worker of all nodes runs the ingest at a time, under the Redis lease
:data:`INGEST_LEASE`. ``yure serve`` wires these with :func:`run_under_lease`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import orjson
from redis.asyncio import Redis

from yure.broadcast.envelope import Envelope
from yure.broadcast.errors import BroadcastError
from yure.broadcast.metrics import Metrics
from yure.broadcast.timeline import Timeline
from yure.infra.lease import Lease
from yure.ingest.event import event_to_json
from yure.ingest.ledger import Publication
from yure.ingest.liveness import report_liveness
from yure.ingest.p2p_client import FeltRecord, FeltSink
from yure.ingest.p2p_felt import FeltReport
from yure.ingest.seen import Sink
from yure.ingest.service import IngestService
from yure.settings import Settings

log = logging.getLogger(__name__)

#: The Redis lease whose holder runs the ingest (one poller across all nodes).
INGEST_LEASE = "yure:lease:ingest"


class FeltCounter(Protocol):
    """Where P2P felt reports are counted (``safety_check.felt_store.FeltReports``)."""

    async def add_p2p(self, pref: str, at: float) -> object: ...


def publication_sink(timeline: Timeline, metrics: Metrics) -> Sink:
    """The poller's sink: each :class:`Publication` becomes one timeline entry.

    The sink raises when the append fails, so the ingest does not mark the item as
    handled and tries it again (the idempotency key makes that safe).
    """

    async def sink(publication: Publication) -> None:
        event = publication.event
        envelope = Envelope(
            key=publication.key,
            kind=event.kind.value,
            prefs=tuple(event.prefs),
            payload=orjson.dumps(event_to_json(event)),
            replaces=publication.replaces,
        )
        try:
            entry_id = await timeline.append(envelope)
        except BroadcastError:
            metrics.ingest_errors.inc()
            raise
        metrics.appends.inc()
        log.info(
            "published key=%s kind=%s id=%s replaces=%s",
            publication.key,
            envelope.kind,
            entry_id,
            publication.replaces,
        )

    return sink


def felt_sink(felt: FeltCounter) -> FeltSink:
    """P2P地震情報 561 felt reports are counted in yure's own felt-report bursts (9611
    evaluations are P2P's own analysis: logged, not republished)."""

    async def sink(record: FeltRecord) -> None:
        if isinstance(record, FeltReport) and record.pref is not None:
            await felt.add_p2p(record.pref, record.received_at.timestamp())

    return sink


async def run_under_lease(
    settings: Settings,
    redis: Redis,
    timeline: Timeline,
    metrics: Metrics,
    felt: FeltCounter,
    *,
    then: Sink | None = None,
    alongside: Callable[[], Coroutine[Any, Any, None]] | None = None,
) -> None:
    """Compete for :data:`INGEST_LEASE`; while held, run the JMA poller and the optional
    P2P地震情報 client (:class:`IngestService`) into ``timeline``, and report liveness.

    Args:
        then: a second sink each publication goes to after the timeline (the history
            archive); when it raises, the item is offered again.
        alongside: work the lease holder also runs (the archive's repair and pruning).
    """
    sink = publication_sink(timeline, metrics)
    if then is not None:
        sink = _chain(sink, then)
    service = IngestService(settings, redis, sink, felt_sink=felt_sink(felt))

    async def work() -> None:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(service.run())
            tasks.create_task(report_liveness(redis, service, metrics))
            if alongside is not None:
                tasks.create_task(alongside())

    await Lease(redis, name=INGEST_LEASE).run(work)


def _chain(first: Sink, then: Sink) -> Sink:
    async def sink(publication: Publication) -> None:
        await first(publication)
        await then(publication)

    return sink
