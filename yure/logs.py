"""The one logging set-up of a yure process (the command line and each ``yure serve``
worker call it once, at start)."""

from __future__ import annotations

import logging
import sys

#: key=value messages after a fixed prefix (STYLE.md §11).
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging(level: str) -> None:
    """Send records at ``level`` and above to stderr in :data:`LOG_FORMAT`."""
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr)
