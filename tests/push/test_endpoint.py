"""endpoint: which addresses yure may POST to, at subscription time and at send time."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from tests.push.pushservice import BrowserKeys, PushService
from tests.support import base_url, serving
from yure.push import ece, vapid
from yure.push.alert import Message, Urgency
from yure.push.endpoint import (
    Endpoint,
    address_allowed,
    check_endpoint,
    check_resolves_public,
)
from yure.push.errors import EndpointError
from yure.push.sender import Outcome, PushSender, Target, push_client

ADDRESSES = [
    ("8.8.8.8", False, True),
    ("2001:4860:4860::8888", False, True),
    ("127.0.0.1", False, False),
    ("127.0.0.1", True, True),
    ("::1", True, True),
    ("10.0.0.1", True, False),  # local mode admits loopback, not the LAN
    ("172.16.5.4", False, False),
    ("192.168.1.1", False, False),
    ("169.254.169.254", False, False),
    ("100.64.0.1", False, False),
    ("0.0.0.0", False, False),
    ("224.0.0.1", False, False),
    ("fe80::1", False, False),
    ("fd12::1", False, False),
    ("::ffff:192.168.1.1", False, False),
    ("::ffff:8.8.8.8", False, True),
    ("192.0.2.1", False, False),  # documentation range
]


@pytest.mark.parametrize(("text", "local", "allowed"), ADDRESSES)
def test_address_allowed(text: str, local: bool, allowed: bool) -> None:
    assert address_allowed(ipaddress.ip_address(text), allow_local=local) is allowed


@pytest.mark.parametrize(
    ("url", "local", "ok"),
    [
        ("https://fcm.googleapis.com/fcm/send/abc", False, True),
        ("https://updates.push.services.mozilla.com:443/wpush/v2/x", False, True),
        ("http://fcm.googleapis.com/x", False, False),
        ("http://127.0.0.1:8080/push/x", True, True),
        ("http://localhost:8080/push/x", True, True),
        ("https://localhost/x", False, False),
        ("https://a.localhost/x", False, False),
        ("https://8.8.8.8/x", False, True),
        ("https://10.0.0.8/x", True, False),
        ("https://push.example:99999/x", False, False),
        ("https:///x", False, False),
        ("https://push.example/x#frag", False, False),
        ("javascript:alert(1)", False, False),
        ("", False, False),
    ],
)
def test_check_endpoint(url: str, local: bool, ok: bool) -> None:
    if ok:
        assert check_endpoint(url, allow_local=local).url == url
    else:
        with pytest.raises(EndpointError):
            check_endpoint(url, allow_local=local)


def test_check_endpoint_refuses_non_strings() -> None:
    with pytest.raises(EndpointError):
        check_endpoint(None, allow_local=True)


async def test_a_name_that_resolves_to_loopback_is_refused_at_subscription() -> None:
    endpoint = Endpoint(url="https://localhost/x", host="localhost", port=443, literal=False)
    with pytest.raises(EndpointError, match="public"):
        await check_resolves_public(endpoint, allow_local=False)
    await check_resolves_public(endpoint, allow_local=True)
    literal = check_endpoint("https://8.8.8.8/x", allow_local=False)
    await check_resolves_public(literal, allow_local=False)  # nothing to resolve


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    endpoint = Endpoint(url="https://x.invalid/", host="x.invalid", port=443, literal=False)
    with pytest.raises(EndpointError, match="resolve"):
        await check_resolves_public(endpoint, allow_local=False)


async def test_sending_to_a_name_that_now_resolves_privately_never_connects(
    tmp_path: Path,
) -> None:
    """DNS rebinding: a stored endpoint whose name now points into the private network
    is not contacted (the connection is refused before any byte is sent)."""
    service = PushService()
    async with serving(service.app()) as runner:
        service.origin = base_url(runner).replace("127.0.0.1", "localhost")
        service.subscribe("a")
        keys: BrowserKeys = service.keys["a"]
        signer = vapid.VapidSigner(vapid.generate_private_key(), "mailto:a@example.org")
        message = Message(b"{}", "t", Urgency.NORMAL, 60)
        body = ece.encrypt(b"{}", ece.parse_receiver(keys.p256dh, keys.auth))
        target = Target("id", f"{service.origin}/push/a", body)
        strict = push_client(allow_local=False, connections=4)
        result = await PushSender(strict, signer).send(target, message, ttl_s=60)
        assert result.outcome is Outcome.RETRY
        assert service.requests == []
        loose = push_client(allow_local=True, connections=4)
        result = await PushSender(loose, signer).send(target, message, ttl_s=60)
        loose.close()
        assert result.outcome is Outcome.DELIVERED
        assert service.requests == [("a", 201)]
