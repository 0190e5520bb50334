"""Errors of the geo package (see the tree in :mod:`yure.errors`)."""

from __future__ import annotations

from yure.errors import YureError


class GeoError(YureError):
    """Bad coordinates (non-numbers, NaN, out of range) or an unusable code."""
