"""Errors of the broadcast package (see the tree in :mod:`yure.errors`)::

BroadcastError
├── EnvelopeError        an Envelope that cannot be appended (size, shape, names)
├── ProtocolError        a client message that breaks docs/protocol.md
│   └── FilterError      a subscription filter with unknown or too many tokens
├── CursorError          a ``since`` that is not a stream id
└── TimelineError        Redis failed or timed out under a timeline operation
"""

from __future__ import annotations

from yure.errors import YureError


class BroadcastError(YureError):
    """Base of every broadcast error."""


class EnvelopeError(BroadcastError):
    """An Envelope that cannot be appended: too large, not a JSON object, bad names."""


class ProtocolError(BroadcastError):
    """A client message that does not follow docs/protocol.md."""


class FilterError(ProtocolError):
    """A subscription filter naming unknown prefectures/regions or too many tokens."""


class CursorError(ProtocolError):
    """A ``since`` / ``Last-Event-ID`` that is not a stream entry id."""


class TimelineError(BroadcastError):
    """Redis failed or timed out while reading or appending the timeline."""
