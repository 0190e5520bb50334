"""wire: the push HTTP/1.1 client against servers that answer byte for byte, and TLS."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from yure.push import wire
from yure.push.wire import PushClient, WireError

Reply = Callable[[bytes], bytes | None]


@asynccontextmanager
async def raw_server(reply: Reply) -> AsyncIterator[tuple[int, list[bytes]]]:
    """A server that answers each request with ``reply(request)`` (None: hang up)."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                request = head + await reader.readexactly(length)
                seen.append(request)
                answer = reply(request)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if b"Connection: close" in answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], seen
    finally:
        server.close()
        await server.wait_closed()


def client(**kwargs: object) -> PushClient:
    options: dict[str, object] = {
        "allow_local": True,
        "connections_per_origin": 4,
        "timeout_s": 5.0,
    }
    options.update(kwargs)
    return PushClient(**options)  # type: ignore[arg-type]


HEADERS = [("TTL", "60"), ("Content-Encoding", "aes128gcm")]


async def test_request_bytes_and_keep_alive() -> None:
    answer = b"HTTP/1.1 201 Created\r\nLocation: /m/1\r\nContent-Length: 0\r\n\r\n"
    async with raw_server(lambda _: answer) as (port, seen):
        http = client()
        for _ in range(3):
            got = await http.post(f"http://127.0.0.1:{port}/push/a?x=1", HEADERS, b"\x00body")
            assert got == wire.Answer(201, None)
        http.close()
    assert len(seen) == 3
    head, _, body = seen[0].partition(b"\r\n\r\n")
    assert body == b"\x00body"
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /push/a?x=1 HTTP/1.1"
    assert f"Host: 127.0.0.1:{port}".encode() in lines
    assert b"TTL: 60" in lines and b"Content-Length: 5" in lines


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 429 Too Many\r\nRetry-After: 7\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 429 Too Many\r\nRetry-After: 7\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 429 Too Many\r\nRetry-After: 7\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2;ext=1\r\nhe\r\n3\r\nllo\r\n0\r\nX-Trailer: 1\r\n\r\n",
    ],
)
async def test_framings(answer: bytes) -> None:
    async with raw_server(lambda _: answer) as (port, seen):
        http = client()
        for _ in range(2):  # the connection is reused after each framing
            assert await http.post(f"http://127.0.0.1:{port}/", HEADERS, b"") == wire.Answer(
                429, "7"
            )
        http.close()
    assert len(seen) == 2


async def test_body_until_close_and_connection_close() -> None:
    answer = b"HTTP/1.1 500 Oops\r\nConnection: close\r\n\r\nbroken"
    async with raw_server(lambda _: answer) as (port, _):
        http = client()
        assert (await http.post(f"http://127.0.0.1:{port}/", HEADERS, b"")).status == 500


async def test_hang_up_before_an_answer_is_an_error() -> None:
    async with raw_server(lambda _: None) as (port, _):
        with pytest.raises(WireError, match="connection lost"):
            await client().post(f"http://127.0.0.1:{port}/", HEADERS, b"x")


@pytest.mark.parametrize(
    "answer",
    [
        b"SPDY/3 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
)
async def test_malformed_answers(answer: bytes) -> None:
    async with raw_server(lambda _: answer) as (port, _):
        with pytest.raises(WireError, match="malformed"):
            await client().post(f"http://127.0.0.1:{port}/", HEADERS, b"")


async def test_oversized_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire, "MAX_RESPONSE_BYTES", 1024)
    big_head = b"HTTP/1.1 200 OK\r\nX: " + b"a" * 2000 + b"\r\n\r\n"
    async with raw_server(lambda _: big_head) as (port, _):
        with pytest.raises(WireError, match="too large"):
            await client().post(f"http://127.0.0.1:{port}/", HEADERS, b"")
    big_body = b"HTTP/1.1 201 Created\r\nContent-Length: 5000\r\n\r\n" + b"b" * 5000
    async with raw_server(lambda _: big_body) as (port, _):
        assert (await client().post(f"http://127.0.0.1:{port}/", HEADERS, b"")).status == 201


async def test_timeout() -> None:
    hang = asyncio.Event()

    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await hang.wait()
        writer.close()

    server = await asyncio.start_server(never, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(TimeoutError):
            await client(timeout_s=0.2).post(f"http://127.0.0.1:{port}/", HEADERS, b"")
    finally:
        hang.set()
        server.close()
        await server.wait_closed()


async def test_refuses_http_unless_local_and_private_addresses() -> None:
    strict = client(allow_local=False)
    with pytest.raises(WireError, match="scheme"):
        await strict.post("http://127.0.0.1:9/", HEADERS, b"")
    with pytest.raises(WireError, match="not a public address"):
        await strict.post("https://127.0.0.1:9/", HEADERS, b"")
    with pytest.raises(WireError, match="no public address"):
        await strict.post("https://localhost:9/", HEADERS, b"")
    with pytest.raises(WireError, match="not a public address"):
        await client().post("http://10.0.0.1:9/", HEADERS, b"")


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_tls_with_hostname_check(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    bodies: list[bytes] = []

    async def handle(request: web.Request) -> web.Response:
        bodies.append(await request.read())
        return web.Response(status=201)

    app = web.Application()
    app.router.add_post("/push/{name}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx)
    await site.start()
    port = runner.addresses[0][1]
    try:
        trusting = ssl.create_default_context(cafile=str(cert))
        http = client(ssl_context=trusting)
        answer = await http.post(f"https://localhost:{port}/push/a", HEADERS, b"secret")
        assert answer.status == 201
        assert bodies == [b"secret"]
        http.close()
        # The system trust store does not know this certificate: refused.
        with pytest.raises(WireError, match="cannot connect"):
            await client().post(f"https://localhost:{port}/push/a", HEADERS, b"x")
    finally:
        await runner.cleanup()
