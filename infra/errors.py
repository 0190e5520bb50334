"""Errors of the infra package (see the tree in :mod:`yure.errors`)::

InfraError
├── EmbeddedRedisError   no redis-server binary, or it did not start
├── LeaseLost            a lease not renewed in time; the work under it was stopped
└── WorkEnded            the work under a lease returned on its own
"""

from __future__ import annotations

from yure.errors import YureError


class InfraError(YureError):
    """Base of every infra error."""


class EmbeddedRedisError(InfraError):
    """No redis-server binary, or it did not start."""


class LeaseLost(InfraError):
    """The lease could not be renewed in time; the work under it was stopped."""


class WorkEnded(InfraError):
    """The work under the lease returned on its own."""
