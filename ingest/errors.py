"""Errors of the ingest package (see the tree in :mod:`yure.errors`)."""

from __future__ import annotations

from yure.errors import YureError


class IngestError(YureError):
    """Base of every ingest error."""


class TelegramError(IngestError):
    """A document that is not a usable JMA telegram (too large, not XML, DTD, wrong root…)."""


class FeedError(IngestError):
    """An Atom feed or an HTTP fetch failed (status, size cap, redirect, timeout, parse)."""


class EventJsonError(IngestError):
    """A payload that is not the wire form of an event (:func:`ingest.event.event_from_json`)."""
