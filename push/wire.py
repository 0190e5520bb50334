"""A small HTTP/1.1 client for push requests. Driver module.

Why not aiohttp's client: a nationwide alert is tens of thousands of tiny POSTs to a
handful of push services, and aiohttp spends several times more CPU per request (URL
objects, header multidicts, payload wrappers, tracing hooks) than encrypting the message
does. This client does only what RFC 8030 delivery needs (RFC 9112 message syntax):

* one ``POST`` per request, ``Content-Length`` framing, keep-alive connections pooled per
  origin (at most ``connections_per_origin`` open);
* answers framed by ``Content-Length``, ``Transfer-Encoding: chunked`` or the end of the
  connection; bodies are read and dropped (at most :data:`MAX_RESPONSE_BYTES`);
* TLS with the system's trust store and hostname checks (``https``); ``http`` only for
  loopback in local mode;
* every address it connects to passes :func:`~yure.push.endpoint.address_allowed`, checked
  on each DNS answer (so a name re-pointed into a private network is never contacted);
* no redirects, no proxies, no cookies, no compression.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import ipaddress
import socket
import ssl
import time
from urllib.parse import urlsplit

from yure.push.endpoint import address_allowed

#: Bytes of an answer (headers and body) read at most; the rest closes the connection.
MAX_RESPONSE_BYTES = 64 * 1024
#: Header lines of an answer at most.
MAX_RESPONSE_HEADERS = 100
#: How long a DNS answer is reused.
DNS_CACHE_S = 60.0
#: Idle connections kept per origin at most.
MAX_IDLE_PER_ORIGIN = 512


class WireError(OSError):
    """The request failed before a complete answer arrived (connection, TLS, framing)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Answer:
    """A push service's answer: status and the headers yure reads."""

    status: int
    retry_after: str | None


class _Connection(asyncio.Protocol):
    """One connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[Answer] | None = None
        self.reusable = False
        self.closed = False
        self._head: tuple[int, dict[str, str]] | None = None
        self._body_start = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            if self._head is not None and self._framing_is_close():
                self._finish(reusable=False)
            else:
                self.waiter.set_exception(WireError(f"connection lost: {exc!r}"))

    def send(self, request: bytes) -> asyncio.Future[Answer]:
        assert self.transport is not None
        self.buffer.clear()
        self._head = None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.waiter

    def data_received(self, data: bytes) -> None:
        if self.waiter is None or self.waiter.done():
            self.close()  # bytes nobody asked for: the connection is out of step
            return
        self.buffer += data
        try:
            if self._head is None and not self._parse_head():
                if len(self.buffer) > MAX_RESPONSE_BYTES:
                    self.waiter.set_exception(WireError("answer headers too large"))
                    self.close()
                return
            if len(self.buffer) > MAX_RESPONSE_BYTES:
                self._finish(reusable=False)  # the status is known; the rest is dropped
                self.close()
                return
            self._check_body()
        except ValueError as err:
            if not self.waiter.done():
                self.waiter.set_exception(WireError(f"malformed answer: {err}"))
            self.close()

    def _parse_head(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        if end > MAX_RESPONSE_BYTES:
            raise ValueError("headers too large")
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        if len(lines) > MAX_RESPONSE_HEADERS:
            raise ValueError("too many header lines")
        version, _, rest = lines[0].partition(" ")
        if not version.startswith("HTTP/1."):
            raise ValueError(f"not HTTP/1.x: {lines[0][:40]!r}")
        status = int(rest[:3])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise ValueError("header line without a colon")
            headers[name.strip().lower()] = value.strip()
        self._head = (status, headers)
        self._body_start = end + 4
        if status in (204, 304) or 100 <= status < 200:
            self._finish(reusable=status >= 200)
        return True

    def _framing_is_close(self) -> bool:
        assert self._head is not None
        headers = self._head[1]
        return "content-length" not in headers and "transfer-encoding" not in headers

    def _check_body(self) -> None:
        if self._head is None or self.waiter is None or self.waiter.done():
            return
        headers = self._head[1]
        body = memoryview(self.buffer)[self._body_start :]
        if "transfer-encoding" in headers:
            if headers["transfer-encoding"].lower() != "chunked":
                raise ValueError("unsupported transfer-encoding")
            if _chunked_complete(bytes(body)):
                self._finish(reusable=True)
        elif "content-length" in headers and len(body) >= int(headers["content-length"]):
            self._finish(reusable=True)
        # else: the body ends when the connection does (connection_lost finishes it)

    def _finish(self, *, reusable: bool) -> None:
        assert self._head is not None and self.waiter is not None
        status, headers = self._head
        keep = reusable and headers.get("connection", "").lower() != "close"
        self.reusable = keep and not self.closed
        if not self.waiter.done():
            self.waiter.set_result(Answer(status, headers.get("retry-after")))

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None:
            self.transport.close()


def _chunked_complete(body: bytes) -> bool:
    """Whether ``body`` holds a whole chunked body (RFC 9112 §7.1), trailers included.

    Raises:
        ValueError: a chunk size that is not hexadecimal.
    """
    pos = 0
    while True:
        line_end = body.find(b"\r\n", pos)
        if line_end < 0:
            return False
        size = int(body[pos:line_end].split(b";", 1)[0].strip() or b"x", 16)
        pos = line_end + 2
        if size == 0:
            return body.find(b"\r\n\r\n", line_end) >= 0 or body[pos : pos + 2] == b"\r\n"
        pos += size + 2
        if pos > len(body):
            return False


@dataclasses.dataclass
class _Origin:
    idle: collections.deque[_Connection]
    slots: asyncio.Semaphore


class PushClient:
    """POSTs to push services over pooled HTTP/1.1 connections."""

    def __init__(
        self,
        *,
        allow_local: bool,
        connections_per_origin: int,
        timeout_s: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.allow_local = allow_local
        self.connections_per_origin = connections_per_origin
        self.timeout_s = timeout_s
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._origins: dict[tuple[str, str, int], _Origin] = {}
        self._dns: dict[tuple[str, int], tuple[float, list[str]]] = {}

    async def post(self, url: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        """POST ``body`` to ``url``.

        Raises:
            WireError: no allowed address, connection or TLS failure, malformed answer.
            TimeoutError: no complete answer within ``timeout_s``.
        """
        parts = urlsplit(url)
        host = parts.hostname or ""
        secure = parts.scheme == "https"
        if not secure and not (parts.scheme == "http" and self.allow_local):
            raise WireError(f"refusing scheme {parts.scheme!r}")
        port = parts.port or (443 if secure else 80)
        key = (parts.scheme, host, port)
        origin = self._origins.get(key)
        if origin is None:
            origin = _Origin(collections.deque(), asyncio.Semaphore(self.connections_per_origin))
            self._origins[key] = origin
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc.rpartition('@')[2]}"]
        lines += [f"{name}: {value}" for name, value in headers]
        lines.append(f"Content-Length: {len(body)}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        async with origin.slots, asyncio.timeout(self.timeout_s):
            conn = self._idle(origin) or await self._connect(host, port, secure)
            try:
                answer = await conn.send(request)
            except BaseException:
                conn.close()
                raise
            if conn.reusable and len(origin.idle) < MAX_IDLE_PER_ORIGIN:
                origin.idle.append(conn)
            else:
                conn.close()
            return answer

    def _idle(self, origin: _Origin) -> _Connection | None:
        while origin.idle:
            conn = origin.idle.pop()
            if not conn.closed:
                return conn
        return None

    async def _connect(self, host: str, port: int, secure: bool) -> _Connection:
        loop = asyncio.get_running_loop()
        last: Exception | None = None
        for address in await self._addresses(host, port):
            try:
                _, protocol = await loop.create_connection(
                    _Connection,
                    host=address,
                    port=port,
                    ssl=self.ssl_context if secure else None,
                    server_hostname=host if secure else None,
                )
                return protocol
            except (OSError, ssl.SSLError) as err:
                last = err
        raise WireError(f"cannot connect to {host}:{port}: {last!r}")

    async def _addresses(self, host: str, port: int) -> list[str]:
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            if not address_allowed(literal, allow_local=self.allow_local):
                raise WireError(f"{host} is not a public address")
            return [host]
        now = time.monotonic()
        cached = self._dns.get((host, port))
        if cached is not None and cached[0] > now:
            return cached[1]
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        allowed = []
        for info in infos:
            address = str(info[4][0]).split("%", 1)[0]
            if address_allowed(ipaddress.ip_address(address), allow_local=self.allow_local):
                allowed.append(address)
        if not allowed:
            raise WireError(f"{host} resolves to no public address")
        self._dns[(host, port)] = (now + DNS_CACHE_S, allowed)
        return allowed

    def close(self) -> None:
        """Close every idle connection."""
        for origin in self._origins.values():
            while origin.idle:
                origin.idle.pop().close()
