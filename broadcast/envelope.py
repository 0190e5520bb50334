"""What the broadcaster moves: an :class:`Envelope` in, an :class:`Entry` out.

broadcast knows nothing about earthquakes: an envelope is an idempotency key, a
kind and a set of prefecture codes to filter on, and an opaque JSON object.
Core module: no I/O.

Entry ids are Redis stream ids ``"<ms>-<seq>"`` (https://redis.io/docs/latest/
develop/data-types/streams/#entry-ids): they increase strictly, so a client that
remembers the last id it saw can resume exactly after it.
"""

from __future__ import annotations

import dataclasses
import re

import orjson

from yure.broadcast.errors import CursorError, EnvelopeError
from yure.broadcast.limits import MAX_PAYLOAD_BYTES

#: Longest idempotency key.
MAX_KEY_BYTES = 256
#: A kind is a short lowercase word ("quake", "tsunami", "post").
KIND_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}")
#: A prefecture code as broadcast sees it: a short token without separators.
PREF_PATTERN = re.compile(r"[0-9A-Za-z_]{1,16}")
#: "<ms>" or "<ms>-<seq>", both decimal, as Redis writes them.
_STREAM_ID = re.compile(r"(\d{1,20})(?:-(\d{1,20}))?")
_U64_MAX = 2**64 - 1
#: The id before every entry ("since": "0-0" replays everything retained).
ZERO_ID = "0-0"

StreamId = tuple[int, int]


@dataclasses.dataclass(frozen=True, slots=True)
class Envelope:
    """One item to append to a timeline."""

    #: idempotency key: appending the same key twice is a no-op
    key: str
    #: e.g. "quake"; filters match it
    kind: str
    #: JIS codes; filters match them
    prefs: tuple[str, ...]
    #: a JSON object (orjson bytes)
    payload: bytes
    #: key of the entry this retracts/replaces; the new entry carries a reference to the
    #: old entry's id ("ref") and reaches everyone who could have received the old one
    replaces: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    """One timeline entry as read back from Redis."""

    id: str
    key: str
    kind: str
    #: sorted, unique; for a replacing entry, the union with the replaced entry's prefs
    prefs: tuple[str, ...]
    #: the JSON object, with ``"ref": "<old id>"`` first when the entry replaces another
    payload: bytes


#: The payload's top-level field naming what an entry is about (e.g. one earthquake's
#: ``event_id``, shared by its reports, corrections and cancellation): the timeline
#: indexes it so :meth:`Timeline.find_by_subject` needs no scan.
SUBJECT_FIELD = "event_id"
#: Longest subject indexed (longer ones are not indexed).
MAX_SUBJECT_BYTES = 128


@dataclasses.dataclass(frozen=True, slots=True)
class CheckedEnvelope:
    """An envelope validated and canonicalized for the append script."""

    key: str
    kind: str
    prefs_field: str
    payload: bytes
    replaces: str
    #: the payload's :data:`SUBJECT_FIELD` when it is a short non-empty string, else ""
    subject: str = ""


def check_envelope(env: Envelope) -> CheckedEnvelope:
    """Validate ``env`` and return its canonical stored form.

    The payload is re-serialized by orjson, so it has no whitespace and no raw
    newline (SSE ``data:`` lines rely on that) and starts with ``{``.

    Raises:
        EnvelopeError: empty or oversized key, bad kind or pref code, payload over
            :data:`MAX_PAYLOAD_BYTES`, not a JSON object, or carrying its own ``ref``.
    """
    if not env.key or len(env.key.encode()) > MAX_KEY_BYTES:
        raise EnvelopeError(f"key must be 1..{MAX_KEY_BYTES} bytes")
    if env.replaces is not None and (
        not env.replaces or len(env.replaces.encode()) > MAX_KEY_BYTES
    ):
        raise EnvelopeError(f"replaces must be 1..{MAX_KEY_BYTES} bytes")
    if KIND_PATTERN.fullmatch(env.kind) is None:
        raise EnvelopeError(f"bad kind {env.kind!r}")
    for pref in env.prefs:
        if PREF_PATTERN.fullmatch(pref) is None:
            raise EnvelopeError(f"bad pref code {pref!r}")
    if len(env.payload) > MAX_PAYLOAD_BYTES:
        raise EnvelopeError(f"payload of {len(env.payload)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        obj = orjson.loads(env.payload)
    except orjson.JSONDecodeError as err:
        raise EnvelopeError(f"payload is not JSON: {err}") from err
    if not isinstance(obj, dict):
        raise EnvelopeError("payload must be a JSON object")
    if "ref" in obj:
        raise EnvelopeError('payload must not carry "ref"; broadcast adds it')
    subject = obj.get(SUBJECT_FIELD)
    if not isinstance(subject, str) or len(subject.encode()) > MAX_SUBJECT_BYTES:
        subject = ""
    return CheckedEnvelope(
        key=env.key,
        kind=env.kind,
        prefs_field=",".join(sorted(set(env.prefs))),
        payload=orjson.dumps(obj),
        replaces=env.replaces or "",
        subject=subject,
    )


def parse_stream_id(text: str) -> StreamId:
    """Parse ``"<ms>-<seq>"`` (or ``"<ms>"``, meaning ``"<ms>-0"``).

    Raises:
        CursorError: anything else, or a part beyond 64 bits.
    """
    match = _STREAM_ID.fullmatch(text)
    if match is None:
        raise CursorError(f"not a stream id: {text[:40]!r}")
    ms = int(match.group(1))
    seq = int(match.group(2) or 0)
    if ms > _U64_MAX or seq > _U64_MAX:
        raise CursorError(f"stream id out of range: {text[:40]!r}")
    return ms, seq


def format_stream_id(stream_id: StreamId) -> str:
    """The canonical ``"<ms>-<seq>"`` text of a stream id."""
    return f"{stream_id[0]}-{stream_id[1]}"


def split_prefs(field: str) -> tuple[str, ...]:
    """The prefs tuple of a stored comma-joined ``p`` field ("" → no prefs)."""
    return tuple(field.split(",")) if field else ()
