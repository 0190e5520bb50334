"""The one logging set-up of a yure process (the command line and each ``yure serve``
worker call it once, at start).

Two formats (``YURE_LOG_FORMAT``): ``text``, key=value messages after a fixed prefix
(STYLE.md §11), and ``json``, one JSON object per line for log collectors::

    {"time": "2024-01-01T07:10:00.123+00:00", "level": "INFO", "logger": "yure.web.serve",
     "message": "serve host=127.0.0.1 port=8080 workers=1", "pid": 1234}
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

#: key=value messages after a fixed prefix (STYLE.md §11).
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
#: The values of ``YURE_LOG_FORMAT``.
LOG_FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in messages are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, log_format: str = "text") -> None:
    """Send records at ``level`` and above to stderr as ``text`` or ``json``."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(LOG_FORMAT)
    handler.setFormatter(formatter)
    logging.basicConfig(level=level, handlers=[handler])
