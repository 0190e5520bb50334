"""Normalization and validation of what users type (pure: strings in, strings out).

Lengths are counted in Unicode code points *after* the text has been cleaned: control
characters removed (category ``Cc``, C0/C1/DEL), bidirectional overrides removed (the
"Trojan Source" characters, CVE-2021-42574, which let a post display text that differs from
its content), invisible characters removed (zero-width ones; a zero-width joiner only
outside emoji sequences), then NFC (UAX #15). Handles are ASCII only (so no invisible or
bidi character can be in one) and unique by their skeleton (:func:`handle_skeleton`).
User text is never HTML-escaped here: it is data, and clients insert it as text.
"""

from __future__ import annotations

import math
import re
import unicodedata

from yure.geo import codes
from yure.safety_check import passwords
from yure.safety_check.errors import InvalidInput

MIN_HANDLE_CHARS = 3
MAX_HANDLE_CHARS = 20
#: Handles are case-insensitive (``Bob`` and ``bob`` are one account, so nobody can
#: impersonate a friend by case); they are stored and shown folded to lower case.
HANDLE_RE = re.compile(rf"[a-z0-9_]{{{MIN_HANDLE_CHARS},{MAX_HANDLE_CHARS}}}")

#: Handles are compared by their skeleton (:func:`handle_skeleton`): Unicode TR39's
#: confusables.txt maps, among [A-Za-z0-9_], ``0``→``O``, ``1``→``l``, ``I``→``l`` and
#: ``m``→``rn`` (entries 0030, 0031, 0049, 006D). Handles are case-insensitive, so the
#: classes are closed under case folding: {0, o}, {1, i, l} (``I``→``l`` and ``i``≡``I``)
#: and ``m`` = ``rn``. No library is used: handles are ASCII, and these four entries are
#: all of confusables.txt that concerns them (confusable-homoglyphs checks mixed scripts,
#: not skeleton equality; the "confusables" package is unmaintained since 2021).
_SKELETON_CHARS = str.maketrans({"0": "o", "1": "l", "i": "l"})

MAX_NOTE_CHARS = 100
MAX_POST_CHARS = 280
#: Raw input may shrink while cleaned (controls dropped, NFC composes); anything this many
#: times longer than its cap cannot fit and is refused before any work is done.
RAW_TEXT_SLACK = 4

MAX_EVENT_ID_CHARS = 64
EVENT_ID_RE = re.compile(rf"[0-9A-Za-z_.:\-]{{1,{MAX_EVENT_ID_CHARS}}}")

#: JIS X 0401 prefecture codes: "01" (北海道) .. "47" (沖縄県).
PREF_CODES: frozenset[str] = frozenset(codes.PREF_CODES)

#: U+202A..U+202E (LRE RLE PDF LRO RLO) and U+2066..U+2069 (LRI RLI FSI PDI), Unicode
#: bidi embedding/override/isolate controls (UAX #9 §2). They are format characters (Cf),
#: not Cc, so they are listed by hand. Zero-width joiners stay: emoji need them.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Invisible characters dropped from posts and notes: zero-width space, non-joiner, word
#: joiner, BOM/ZWNBSP, soft hyphen, LRM/RLM/ALM (marks that reorder text like the bidi
#: controls), Mongolian vowel separator, invisible operators (U+2061–U+2064). They let two
#: texts look the same and differ. The zero-width joiner is kept only inside an emoji
#: sequence (UTS #51 §1.4.9: ZWJ sequences such as 👨‍👩‍👧), where it is needed.
_INVISIBLE = frozenset(
    "\u200b\u200c\u2060\ufeff\u00ad\u200e\u200f\u061c\u180e\u2061\u2062\u2063\u2064"
)
_ZWJ = "\u200d"
#: Variation selector 16 and the skin-tone modifiers may sit between an emoji and a ZWJ.
_EMOJI_TAIL = frozenset("\ufe0f") | frozenset(chr(c) for c in range(0x1F3FB, 0x1F400))
#: Line and paragraph separators (Zl, Zp) are treated as newlines.
_LINE_BREAKS = ("\r\n", "\r", "\u2028", "\u2029", "\x85")


def normalize_handle(raw: str) -> str:
    """Return the canonical (lower-case) handle.

    Raises:
        InvalidInput: not 3–20 characters of ``[A-Za-z0-9_]``.
    """
    if len(raw) > MAX_HANDLE_CHARS or not raw.isascii():
        raise InvalidInput(f"handle must be {MIN_HANDLE_CHARS}-{MAX_HANDLE_CHARS} of [A-Za-z0-9_]")
    handle = raw.lower()
    if HANDLE_RE.fullmatch(handle) is None:
        raise InvalidInput(f"handle must be {MIN_HANDLE_CHARS}-{MAX_HANDLE_CHARS} of [A-Za-z0-9_]")
    return handle


def handle_skeleton(handle: str) -> str:
    """The TR39-style skeleton of a canonical handle: two handles that look alike
    (``alice1``, ``al1ce1``, ``aIice1``) have the same one (see :data:`_SKELETON_CHARS`)."""
    return handle.translate(_SKELETON_CHARS).replace("m", "rn")


def validate_password(raw: str) -> str:
    """Return the password unchanged if its length is acceptable (never normalized: the
    bytes the user typed are what argon2 hashes). New passwords also pass
    :func:`validate_new_password`.

    Raises:
        InvalidInput: shorter than 8 or longer than 128 characters, or not encodable
            (lone surrogates).
    """
    return passwords.check_length(raw)


validate_new_password = passwords.validate_new_password
is_common_password = passwords.is_common_password
MIN_PASSWORD_CHARS = passwords.MIN_PASSWORD_CHARS
MAX_PASSWORD_CHARS = passwords.MAX_PASSWORD_CHARS


def clean_text(raw: str, *, max_chars: int, keep_newlines: bool, allow_empty: bool) -> str:
    """Clean user text: unify line breaks, drop control and bidi-override characters,
    NFC, strip surrounding whitespace, then check the length in code points.

    Args:
        raw: the text as received.
        max_chars: the cap, in code points after cleaning.
        keep_newlines: keep ``\\n`` (posts); otherwise line breaks become spaces (notes).
        allow_empty: whether an empty result is acceptable.

    Raises:
        InvalidInput: empty when not allowed, or longer than ``max_chars``.
    """
    if len(raw) > max_chars * RAW_TEXT_SLACK:
        raise InvalidInput(f"text must be at most {max_chars} characters")
    for brk in _LINE_BREAKS:
        raw = raw.replace(brk, "\n")
    if not keep_newlines:
        raw = raw.replace("\n", " ")
    kept = [
        ch
        for ch in raw
        if ch == "\n"
        or (
            ch not in _BIDI_CONTROLS
            and ch not in _INVISIBLE
            and unicodedata.category(ch) not in ("Cc", "Cs")
        )
    ]
    text = unicodedata.normalize("NFC", _emoji_joiners_only("".join(kept))).strip()
    if not text and not allow_empty:
        raise InvalidInput("text must not be empty")
    if len(text) > max_chars:
        raise InvalidInput(f"text must be at most {max_chars} characters")
    return text


def _is_emoji(ch: str) -> bool:
    # Extended_Pictographic lives mostly in these blocks (emoji-data.txt); symbols
    # (So) outside them, such as ♀ or ⚕ in profession sequences, count too.
    code = ord(ch)
    return (
        0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF or unicodedata.category(ch) == "So"
    )


def _emoji_joiners_only(text: str) -> str:
    """Drop every zero-width joiner that does not join two emoji."""
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch == _ZWJ:
            before = next((c for c in reversed(text[:i]) if c not in _EMOJI_TAIL), "")
            after = text[i + 1 : i + 2]
            prev_ok = bool(before) and _is_emoji(before)
            if not (prev_ok and after and _is_emoji(after)):
                continue
        out.append(ch)
    return "".join(out)


def clean_note(raw: str) -> str:
    """A check-in note: one line, at most 100 characters, may be empty.

    Raises:
        InvalidInput: too long.
    """
    return clean_text(raw, max_chars=MAX_NOTE_CHARS, keep_newlines=False, allow_empty=True)


def clean_post_text(raw: str) -> str:
    """A post: newlines kept, 1–280 characters.

    Raises:
        InvalidInput: empty or too long.
    """
    return clean_text(raw, max_chars=MAX_POST_CHARS, keep_newlines=True, allow_empty=False)


def validate_pref(raw: str) -> str:
    """Return a JIS X 0401 prefecture code.

    Raises:
        InvalidInput: not one of "01".."47".
    """
    if raw not in PREF_CODES:
        raise InvalidInput('pref must be a JIS prefecture code "01".."47"')
    return raw


def validate_event_id(raw: str) -> str:
    """Return an event id (JMA EventID such as ``20240101161010`` or a P2P id).

    Raises:
        InvalidInput: empty, longer than 64 characters or outside ``[0-9A-Za-z_.:-]``.
    """
    if EVENT_ID_RE.fullmatch(raw) is None:
        raise InvalidInput("event_id must be 1-64 characters of [0-9A-Za-z_.:-]")
    return raw


def validate_coordinates(lat: float, lon: float) -> tuple[float, float]:
    """Return ``(lat, lon)`` when both are finite and in range.

    Raises:
        InvalidInput: NaN, infinite, or outside [-90, 90] × [-180, 180].
    """
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise InvalidInput("lat/lon must be finite numbers")
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise InvalidInput("lat must be in [-90, 90] and lon in [-180, 180]")
    return lat, lon


def coarsen(value: float, step: float = 0.1) -> float:
    """Round a coordinate to a grid of ``step`` degrees (0.1° ≈ 11 km of latitude), so a
    published point never pins a home."""
    return round(round(value / step) * step, 6)
