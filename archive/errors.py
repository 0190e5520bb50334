"""Errors of the archive package (see the tree in :mod:`yure.errors`)::

ArchiveError
├── QueryError          a history filter that cannot be used (bad value, unknown code)
├── UnknownEvent        no archived event has that id
├── StorageError        the database failed, timed out, or holds a newer schema
└── SourceError         a backfill path that cannot be read (missing, broken archive)
"""

from __future__ import annotations

from yure.errors import YureError


class ArchiveError(YureError):
    """Base of every archive error."""


class QueryError(ArchiveError):
    """A history filter that cannot be used; the message says which and why."""


class UnknownEvent(ArchiveError):
    """No archived event has the asked id."""


class StorageError(ArchiveError):
    """The database failed or timed out, or its schema is newer than this yure."""


class SourceError(ArchiveError):
    """A backfill path that cannot be read (missing, unreadable, a broken archive)."""
