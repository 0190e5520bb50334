"""yure.forwarded: who the client is, believed only from trusted proxies (tables)."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from yure.forwarded import (
    MAX_FORWARDED_HEADER_CHARS,
    MAX_FORWARDED_HOPS,
    Origin,
    is_trusted,
    parse_forwarded,
    parse_networks,
    parse_public_url,
    resolve_origin,
)

PROXIES = parse_networks("127.0.0.1, 10.0.0.0/8, ::1")


def origin(
    peer: str | None, headers: dict[str, str] | None = None, public: tuple[str, str] | None = None
) -> Origin:
    wire = CIMultiDict((k.replace("_", "-"), v) for k, v in (headers or {}).items())
    return resolve_origin(
        peer=peer, scheme="http", host="10.0.0.2:8080", headers=wire, trusted=PROXIES, public=public
    )


@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [
        # Untrusted peers cannot choose their address, scheme or host.
        ("203.0.113.9", {"X_Forwarded_For": "1.2.3.4"}, ("203.0.113.9", "http", "10.0.0.2:8080")),
        (
            "203.0.113.9",
            {"Forwarded": "for=1.2.3.4;proto=https"},
            ("203.0.113.9", "http", "10.0.0.2:8080"),
        ),
        (None, {"X_Forwarded_For": "1.2.3.4"}, ("unknown", "http", "10.0.0.2:8080")),
        # A trusted peer without headers is itself the client.
        ("127.0.0.1", {}, ("127.0.0.1", "http", "10.0.0.2:8080")),
        # X-Forwarded-*: right to left past trusted hops; the last proto/host.
        (
            "127.0.0.1",
            {
                "X_Forwarded_For": "1.2.3.4",
                "X_Forwarded_Proto": "https",
                "X_Forwarded_Host": "yure.example.org",
            },
            ("1.2.3.4", "https", "yure.example.org"),
        ),
        (
            "127.0.0.1",
            {"X_Forwarded_For": "6.6.6.6, 1.2.3.4, 10.1.1.1"},
            ("1.2.3.4", "http", "10.0.0.2:8080"),
        ),
        (
            "127.0.0.1",
            {"X_Forwarded_For": "10.9.9.9, 10.1.1.1"},
            ("10.9.9.9", "http", "10.0.0.2:8080"),
        ),
        ("::1", {"X_Forwarded_For": "2001:db8::7"}, ("2001:db8::7", "http", "10.0.0.2:8080")),
        ("::ffff:127.0.0.1", {"X_Forwarded_For": "1.2.3.4"}, ("1.2.3.4", "http", "10.0.0.2:8080")),
        # Malformed values are ignored as a whole.
        ("127.0.0.1", {"X_Forwarded_For": "1.2.3.4, evil"}, ("127.0.0.1", "http", "10.0.0.2:8080")),
        ("127.0.0.1", {"X_Forwarded_For": "1.2.3.4,,"}, ("127.0.0.1", "http", "10.0.0.2:8080")),
        (
            "127.0.0.1",
            {"X_Forwarded_Proto": "gopher", "X_Forwarded_Host": "a b"},
            ("127.0.0.1", "http", "10.0.0.2:8080"),
        ),
        ("127.0.0.1", {"X_Forwarded_For": "1.2.3.4:5555"}, ("1.2.3.4", "http", "10.0.0.2:8080")),
        # Forwarded (RFC 7239) wins and takes proto/host from the hop that saw the client.
        (
            "127.0.0.1",
            {
                "Forwarded": 'for=1.2.3.4;proto=https;host="yure.example.org", for=10.1.1.1',
                "X_Forwarded_For": "6.6.6.6",
            },
            ("1.2.3.4", "https", "yure.example.org"),
        ),
        (
            "127.0.0.1",
            {"Forwarded": 'For="[2001:db8:cafe::17]:4711"'},
            ("2001:db8:cafe::17", "http", "10.0.0.2:8080"),
        ),
        (
            "127.0.0.1",
            {"Forwarded": "for=_hidden, for=1.2.3.4"},
            ("1.2.3.4", "http", "10.0.0.2:8080"),
        ),
        (
            "127.0.0.1",
            {"Forwarded": "for=1.2.3.4, for=unknown"},
            ("127.0.0.1", "http", "10.0.0.2:8080"),
        ),
        (
            "127.0.0.1",
            {"Forwarded": 'for=1.2.3.4;proto=ftp;host="a b"'},
            ("1.2.3.4", "http", "10.0.0.2:8080"),
        ),
        ("127.0.0.1", {"Forwarded": "for"}, ("127.0.0.1", "http", "10.0.0.2:8080")),
        ("127.0.0.1", {"Forwarded": "proto=https"}, ("127.0.0.1", "http", "10.0.0.2:8080")),
        ("127.0.0.1", {"Forwarded": 'for="[::1"'}, ("127.0.0.1", "http", "10.0.0.2:8080")),
        (
            "127.0.0.1",
            {"Forwarded": "for=10.1.1.1;by=10.0.0.2, for=10.2.2.2"},
            ("10.1.1.1", "http", "10.0.0.2:8080"),
        ),
    ],
)
def test_resolve_origin(
    peer: str | None, headers: dict[str, str], expected: tuple[str, str, str]
) -> None:
    found = origin(peer, headers)
    assert (found.remote, found.scheme, found.host) == expected


def test_public_url_pins_scheme_and_host_whatever_the_headers() -> None:
    public = parse_public_url("https://yure.example.org")
    found = origin("203.0.113.9", {"X-Forwarded-Host": "evil.example"}, public)
    assert found == Origin("203.0.113.9", "https", "yure.example.org")
    assert found.secure
    assert found.base_url == "https://yure.example.org"
    assert not origin("127.0.0.1").secure


def test_caps() -> None:
    long = "for=1.2.3.4;x=" + "a" * MAX_FORWARDED_HEADER_CHARS
    assert parse_forwarded(long) is None
    assert parse_forwarded(", ".join(["for=10.0.0.1"] * (MAX_FORWARDED_HOPS + 1))) is None
    chain = ", ".join(["1.2.3.4"] * (MAX_FORWARDED_HOPS + 1))
    assert origin("127.0.0.1", {"X-Forwarded-For": chain}).remote == "127.0.0.1"
    assert parse_forwarded('for="a\\"b";proto=https') == [{"for": 'a"b', "proto": "https"}]
    assert parse_forwarded(" ; ") == [{}]


@pytest.mark.parametrize("raw", ["http://x", "https://x:8443/", "https://[::1]:8443"])
def test_public_url_accepts(raw: str) -> None:
    scheme, host = parse_public_url(raw)
    assert raw.startswith(f"{scheme}://{host}")


@pytest.mark.parametrize(
    "raw", ["x", "ftp://x", "https://x/a", "https://x?q", "https://x#f", "https://a b"]
)
def test_public_url_refuses(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_public_url(raw)


def test_networks() -> None:
    assert parse_networks(" ") == ()
    assert is_trusted("10.200.0.1", PROXIES)
    assert not is_trusted("11.0.0.1", PROXIES)
    assert not is_trusted(None, PROXIES)
    assert not is_trusted("fe80::1%eth0", PROXIES)
    with pytest.raises(ValueError):
        parse_networks("10.0.0.0/33")
