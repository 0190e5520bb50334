"""Reading the wire form back: small typed readers of untyped JSON values (the wire
edge: ``Any`` is allowed here). Each raises :class:`~ingest.errors.EventJsonError` when the
value is not of the expected shape. Core module.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from yure.ingest.errors import EventJsonError


def read_object(value: object, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EventJsonError(f"{name} is not an object")
    return value


def read_list(value: object, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise EventJsonError(f"{name} is not a list")
    return value


def read_text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise EventJsonError(f"{name} is not a string")
    return value


def read_str(o: dict[str, Any], key: str) -> str:
    return read_text(o.get(key), key)


def read_optional_str(o: dict[str, Any], key: str) -> str | None:
    value = o.get(key)
    return None if value is None else read_text(value, key)


def read_bool(o: dict[str, Any], key: str) -> bool:
    value = o.get(key, False)
    if not isinstance(value, bool):
        raise EventJsonError(f"{key} is not a boolean")
    return value


def read_optional_int(o: dict[str, Any], key: str) -> int | None:
    value = o.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise EventJsonError(f"{key} is not an integer")
    return value


def read_optional_float(o: dict[str, Any], key: str) -> float | None:
    value = o.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EventJsonError(f"{key} is not a number")
    return float(value)


def read_datetime(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        raise EventJsonError(f"datetime without offset: {text!r}")
    return when


def read_optional_time(o: dict[str, Any], key: str) -> datetime | None:
    """An optional ISO 8601 time with offset."""
    value = read_optional_str(o, key)
    return None if value is None else read_datetime(value)
