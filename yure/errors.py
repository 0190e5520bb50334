"""The root of yure's exception tree.

Each package defines its own errors under :class:`YureError`::

    YureError
    ├── ConfigError                 yure.errors     bad environment at start-up
    ├── SchemaError                 yure.schema     Redis holds a newer storage layout
    ├── IngestError                 ingest.errors
    │   ├── TelegramError           a document that is not a usable JMA telegram
    │   ├── FeedError               an Atom feed or HTTP fetch that failed
    │   └── EventJsonError          a payload that is not an event's wire form
    ├── GeoError                    geo.errors      bad coordinates, unknown codes
    ├── BroadcastError              broadcast.errors
    ├── InfraError                  infra.errors    embedded redis-server, Redis lease
    └── SafetyCheckError            safety_check.errors

Third-party exceptions are wrapped at the package boundary
(``raise FeedError(...) from err``) so callers only ever catch yure's own.
"""

from __future__ import annotations


class YureError(Exception):
    """Base class of every error yure raises on purpose."""


class ConfigError(YureError):
    """The environment does not describe a usable configuration."""
