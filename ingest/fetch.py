"""Careful HTTP GET for JMA's feeds and telegrams (aiohttp driver).

Every fetch: one deadline for the whole exchange (redirects and body included), a size
cap enforced while reading (so a compressed or endless body cannot grow past it),
conditional GET (If-None-Match / If-Modified-Since → 304, RFC 9110 §13.1), and
redirects followed by hand: at most :data:`MAX_REDIRECTS`, only to the same host
(http → https allowed, never back), because a telegram must come from where the feed
said it lives.
"""

from __future__ import annotations

import asyncio
import dataclasses
from urllib.parse import urljoin, urlsplit

import aiohttp

from yure.ingest.errors import FeedError

#: Redirects followed per fetch.
MAX_REDIRECTS = 3
#: Bytes read per chunk while enforcing the size cap.
READ_CHUNK_BYTES = 64 * 1024
#: Sent on every request to JMA and to P2P地震情報 (:mod:`ingest.p2p_client`).
USER_AGENT = "yure/0.1 (self-hosted earthquake information feed)"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: Worth retrying later: overload and server errors.
_TRANSIENT_STATUSES = frozenset({408, 425, 429}) | frozenset(range(500, 600))


class FetchError(FeedError):
    """A fetch that failed. ``permanent``: retrying the same URL will not help (4xx,
    too large, refused redirect); ``body``: what was read before a size cap hit."""

    def __init__(self, message: str, *, permanent: bool, body: bytes | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.body = body


@dataclasses.dataclass(frozen=True, slots=True)
class Validators:
    """What the server said about a document's version (for conditional GET)."""

    etag: str | None = None
    last_modified: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Fetched:
    """A completed fetch: status 200 with ``body``, or 304 with an empty body."""

    status: int
    body: bytes
    url: str
    validators: Validators

    @property
    def not_modified(self) -> bool:
        """The server answered 304 Not Modified."""
        return self.status == 304


def same_host(origin: str, target: str) -> bool:
    """Whether ``target`` may be fetched for ``origin``: same host name and port, and no
    downgrade from https to http."""
    a, b = urlsplit(origin), urlsplit(target)
    if b.scheme not in {"http", "https"} or not b.hostname:
        return False
    if a.scheme == "https" and b.scheme == "http":
        return False
    default = {"http": 80, "https": 443}
    port_a = a.port or default.get(a.scheme)
    port_b = b.port or default.get(b.scheme)
    same_port = port_a == port_b or (a.scheme == "http" and b.scheme == "https" and not b.port)
    return a.hostname == b.hostname and same_port


async def _read_capped(response: aiohttp.ClientResponse, url: str, max_bytes: int) -> bytes:
    declared = response.content_length
    if declared is not None and declared > max_bytes:
        raise FetchError(f"{url}: Content-Length {declared} over cap {max_bytes}", permanent=True)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(READ_CHUNK_BYTES):
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            body = b"".join(chunks)[:max_bytes]
            raise FetchError(f"{url}: body over cap {max_bytes} bytes", permanent=True, body=body)
    return b"".join(chunks)


def _conditional_headers(validators: Validators | None) -> dict[str, str]:
    headers = {"User-Agent": USER_AGENT}
    if validators is not None:
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
    return headers


async def _exchange(
    session: aiohttp.ClientSession,
    url: str,
    max_bytes: int,
    validators: Validators | None,
    timeout_s: float,
) -> Fetched:
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        async with session.get(
            current,
            headers=_conditional_headers(validators),
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as response:
            status = response.status
            if status in _REDIRECTS:
                location = response.headers.get("Location")
                if not location:
                    raise FetchError(f"{current}: {status} without Location", permanent=True)
                target = urljoin(current, location)
                if not same_host(url, target):
                    raise FetchError(
                        f"{current}: redirect to another host refused ({target})", permanent=True
                    )
                current = target
                continue
            if status == 304 and validators is not None:
                return Fetched(304, b"", current, validators)
            if status != 200:
                raise FetchError(
                    f"{current}: HTTP {status}", permanent=status not in _TRANSIENT_STATUSES
                )
            body = await _read_capped(response, current, max_bytes)
            found = Validators(
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            )
            return Fetched(200, body, current, found)
    raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects", permanent=True)


async def fetch(
    session: aiohttp.ClientSession,
    url: str,
    *,
    max_bytes: int,
    timeout_s: float,
    validators: Validators | None = None,
) -> Fetched:
    """GET ``url`` within ``timeout_s`` seconds, reading at most ``max_bytes``.

    Args:
        validators: from an earlier fetch; sent as If-None-Match / If-Modified-Since.

    Raises:
        FetchError: timeout, connection failure or 5xx (``permanent=False``); other
            status, refused or too many redirects, body over ``max_bytes``
            (``permanent=True``).
    """
    try:
        async with asyncio.timeout(timeout_s):
            return await _exchange(session, url, max_bytes, validators, timeout_s)
    except TimeoutError as err:
        message = f"{url}: no complete answer within {timeout_s} s"
        raise FetchError(message, permanent=False) from err
    except aiohttp.ClientError as err:
        raise FetchError(f"{url}: {type(err).__name__}: {err}", permanent=False) from err
