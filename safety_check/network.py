"""Client addresses as rate-limit and counting subjects (pure apart from ``hmac``).

Two granularities (issue 10 #6, #9):

* the **address** of a client, for per-client limits and login throttling: an IPv4
  address as is, an IPv6 address by its /64 (one customer's whole prefix, RFC 6177 and
  RFC 7421: anyone holding one /64 can use 2^64 addresses);
* the **network** of a client, for counting people (felt bursts, post reports, sign-ups):
  IPv4 /24, IPv6 /64. One person with one connection cannot look like many networks.

Subjects are stored only as a keyed hash (HMAC-SHA256, RFC 2104, with the server's
secret, truncated to 96 bits): without the secret a stored subject cannot be reversed by
hashing all 2^32 IPv4 addresses, as an unsalted hash could.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

IPV4_NETWORK_PREFIX = 24
IPV6_NETWORK_PREFIX = 64
#: Hex characters of a subject's HMAC that are kept (96 bits).
SUBJECT_HEX_CHARS = 24
#: The subject of a request whose peer address is unknown or unparsable.
UNKNOWN = "unknown"
#: Shortest accepted secret.
MIN_SECRET_BYTES = 16


def _parse(address: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def address_of(address: str | None) -> str:
    """The canonical per-client form: ``"1.2.3.4"``, ``"2001:db8:1:2::/64"`` or
    ``"unknown"``."""
    ip = _parse(address)
    if ip is None:
        return UNKNOWN
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ip)
    return str(ipaddress.IPv6Network((ip, IPV6_NETWORK_PREFIX), strict=False))


def network_of(address: str | None) -> str:
    """The canonical network: ``"1.2.3.0/24"``, ``"2001:db8:1:2::/64"`` or ``"unknown"``."""
    ip = _parse(address)
    if ip is None:
        return UNKNOWN
    prefix = IPV4_NETWORK_PREFIX if isinstance(ip, ipaddress.IPv4Address) else IPV6_NETWORK_PREFIX
    return str(ipaddress.ip_network((ip, prefix), strict=False))


class Subjects:
    """Keyed hashes of addresses and networks, as stored in Redis."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the address secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret

    def _mac(self, kind: str, value: str) -> str:
        digest = hmac.new(self._secret, f"{kind}:{value}".encode(), hashlib.sha256)
        return digest.hexdigest()[:SUBJECT_HEX_CHARS]

    def address(self, address: str | None) -> str:
        """The subject of a client (IPv4 address, IPv6 /64)."""
        return "ip-" + self._mac("address", address_of(address))

    def network(self, address: str | None) -> str:
        """The subject of a client's network (IPv4 /24, IPv6 /64)."""
        return "net-" + self._mac("network", network_of(address))
