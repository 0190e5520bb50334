"""Backfill: JMA XML telegrams and P2P地震情報 JSON history into the archive.

``yure archive import PATH...`` (:mod:`archive.cli`). Each document
(:mod:`archive.sources`) is parsed as live ingest parses it (:func:`ingest.telegram.
parse_telegram`, :func:`ingest.p2p.parse_message`), keyed by :func:`ingest.merge.identify`
and judged by the same ledger (:func:`ingest.ledger.decide`, its stream states kept in
memory for the run), so an imported event is the event live ingest would have archived:
訓練/試験 are dropped, a repeat is a duplicate, a late lower serial is stale. The
archive ignores keys it has, so importing twice changes nothing.

P2P arrays (``/v2/jma/quake`` answers newest first) are put in time order before the
ledger sees them. A document that cannot be parsed is counted, named in the summary and
skipped; the import goes on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from yure.archive.sources import Document, DocumentKind, Skipped, documents
from yure.archive.store import Archive
from yure.errors import YureError
from yure.ingest.event import Event, Provenance, Source
from yure.ingest.ledger import StreamState, Verdict, decide
from yure.ingest.merge import identify, stream_of
from yure.ingest.p2p import MAX_P2P_MESSAGE_BYTES, Places, Relayed, parse_message
from yure.ingest.telegram import parse_telegram

log = logging.getLogger(__name__)

#: Telegrams written per transaction.
BATCH_ITEMS = 500
#: Problems named in the summary at most (all are counted).
MAX_PROBLEMS_LISTED = 20
#: Items of one P2P JSON document at most.
MAX_ITEMS_PER_DOCUMENT = 100_000


@dataclasses.dataclass
class ImportStats:
    """What an import did; every count is monotonic during the run."""

    documents: int = 0
    telegrams: int = 0
    added: int = 0
    already: int = 0
    not_public: int = 0
    duplicates: int = 0
    stale: int = 0
    not_official: int = 0
    problems: int = 0
    skipped_files: int = 0
    problem_list: list[str] = dataclasses.field(default_factory=list)

    def problem(self, name: str, reason: str) -> None:
        """Count one unusable document or item (listing the first few)."""
        self.problems += 1
        if len(self.problem_list) < MAX_PROBLEMS_LISTED:
            self.problem_list.append(f"{name}: {reason}")

    def summary(self) -> str:
        """One paragraph for the terminal."""
        lines = [
            f"documents read: {self.documents}",
            f"telegrams: {self.telegrams}",
            f"archived now: {self.added}",
            f"archived before: {self.already}",
            f"duplicates: {self.duplicates}, stale: {self.stale}",
            f"訓練/試験 dropped: {self.not_public}, not official: {self.not_official}",
            f"skipped files: {self.skipped_files}, problems: {self.problems}",
        ]
        lines += [f"  {problem}" for problem in self.problem_list]
        return "\n".join(lines)


Progress = Callable[[ImportStats], None]


def _p2p_items(data: bytes) -> list[Any]:
    """The items of a P2P JSON document: one object, an array, or one object per line.

    Raises:
        ValueError: none of these.
    """
    try:
        decoded = orjson.loads(data)
    except orjson.JSONDecodeError:
        decoded = [orjson.loads(line) for line in data.splitlines() if line.strip()]
    items = decoded if isinstance(decoded, list) else [decoded]
    if len(items) > MAX_ITEMS_PER_DOCUMENT:
        raise ValueError(f"more than {MAX_ITEMS_PER_DOCUMENT} items")
    return items


class Importer:
    """One run of ``yure archive import``."""

    def __init__(
        self,
        archive: Archive,
        places: Callable[[], Places],
        *,
        progress: Progress | None = None,
        progress_every_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.archive = archive
        self._places_factory = places
        self._places: Places | None = None
        self.stats = ImportStats()
        self._states: dict[str, StreamState] = {}
        self._batch: list[tuple[str, Event]] = []
        self._progress = progress
        self._progress_every_s = progress_every_s
        self._clock = clock
        self._reported_at = clock()
        self._started_at = datetime.fromtimestamp(wall_clock(), UTC)

    def _places_once(self) -> Places:
        if self._places is None:
            self._places = self._places_factory()
        return self._places

    async def run(self, paths: Iterable[Path]) -> ImportStats:
        """Import every document under ``paths``.

        Raises:
            SourceError: a path is missing or an archive file is broken.
            StorageError: the database failed.
        """
        for item in documents(list(paths)):
            if isinstance(item, Skipped):
                self.stats.skipped_files += 1
                self.stats.problem(item.name, item.reason)
                continue
            self.stats.documents += 1
            for event, key in self._parse(item):
                self._judge(event, key)
            if len(self._batch) >= BATCH_ITEMS:
                await self._flush()
            self._report()
        await self._flush()
        if self._progress is not None:
            self._progress(self.stats)
        return self.stats

    def _parse(self, document: Document) -> list[tuple[Event, str]]:
        if document.kind is DocumentKind.JMA_XML:
            try:
                event = parse_telegram(document.data)
            except YureError as err:
                self.stats.problem(document.name, str(err))
                return []
            provenance = Provenance(
                source=Source.JMA,
                source_url=None,
                sha256=hashlib.sha256(document.data).hexdigest(),
                received_at=None,
            )
            event = dataclasses.replace(event, provenance=provenance)
            return [(event, identify(event).key)]
        return self._parse_p2p(document)

    def _parse_p2p(self, document: Document) -> list[tuple[Event, str]]:
        try:
            items = _p2p_items(document.data)
        except ValueError as err:  # orjson.JSONDecodeError is a ValueError
            self.stats.problem(document.name, f"not P2P地震情報 JSON: {err}")
            return []
        parsed: list[tuple[Event, str]] = []
        for raw in items:
            data = orjson.dumps(raw)
            try:
                item = parse_message(data[: MAX_P2P_MESSAGE_BYTES + 1], self._places_once())
            except YureError as err:
                self.stats.problem(document.name, str(err))
                continue
            if not isinstance(item, Relayed):
                self.stats.not_official += 1
                continue
            provenance = Provenance(
                source=Source.P2P,
                source_url=None,
                sha256=hashlib.sha256(data).hexdigest(),
                received_at=None,
            )
            event = dataclasses.replace(item.event, provenance=provenance)
            parsed.append((event, identify(event, partial=item.partial).key))
        parsed.sort(key=lambda pair: (pair[0].reported_at, pair[0].serial or 0))
        return parsed

    def _judge(self, event: Event, key: str) -> None:
        self.stats.telegrams += 1
        stream = stream_of(event, key)
        # Backfilled items were all reported before this run: they rank by ReportDateTime,
        # and a future-dated one ranks no later than now, as live ingest ranks it.
        decision = decide(self._states.get(stream), event, key, received_at=self._started_at)
        if decision.verdict is Verdict.NOT_PUBLIC:
            self.stats.not_public += 1
        elif decision.verdict is Verdict.DUPLICATE:
            self.stats.duplicates += 1
        elif decision.verdict is Verdict.STALE:
            self.stats.stale += 1
        if decision.publication is not None:
            self._batch.append((key, event))
        if decision.state is not None:
            self._states[stream] = decision.state

    async def _flush(self) -> None:
        if not self._batch:
            return
        batch, self._batch = self._batch, []
        added = await self.archive.add(batch)
        self.stats.added += added
        self.stats.already += len(batch) - added

    def _report(self) -> None:
        now = self._clock()
        if self._progress is not None and now - self._reported_at >= self._progress_every_s:
            self._reported_at = now
            self._progress(self.stats)
