"""ece + vapid + keyfile: RFC 8291 Appendix A, decryption by http_ece, VAPID verified
by py_vapid (both independent implementations), the key file's life."""

from __future__ import annotations

import stat
from pathlib import Path

import http_ece
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from tests.push.pushservice import BrowserKeys, decrypt_independently
from yure.push import ece, keyfile, vapid
from yure.push.errors import SubscriptionError, VapidKeyError

# RFC 8291 Appendix A ("Push Message Encryption Example").
RFC_PLAINTEXT = b"When I grow up, I want to be a watermelon"
RFC_AS_PRIVATE = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
RFC_AS_PUBLIC = (
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
)
RFC_UA_PRIVATE = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
RFC_UA_PUBLIC = (
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
)
RFC_AUTH = "BTBZMqHH6r4Tts7J_aSIgg"
RFC_SALT = "DGv6ra1nlYgDCS1FRnbzlw"
RFC_BODY = (
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmY"
    "WAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexS"
    "gSxsj_Qulcy4a-fN"
)


def test_rfc8291_appendix_a() -> None:
    sender = vapid.private_key_from_b64(RFC_AS_PRIVATE)
    assert vapid.public_key_b64(sender) == RFC_AS_PUBLIC
    receiver = ece.parse_receiver(RFC_UA_PUBLIC, RFC_AUTH)
    body = ece.encrypt(RFC_PLAINTEXT, receiver, sender_key=sender, salt=ece.b64url_decode(RFC_SALT))
    assert ece.b64url_encode(body) == RFC_BODY


def test_http_ece_decrypts_what_we_encrypt() -> None:
    browser = BrowserKeys.generate()
    message = "震度5弱 東京都".encode() * 40
    body = ece.encrypt(message, ece.parse_receiver(browser.p256dh, browser.auth))
    assert decrypt_independently(body, browser) == message
    # and with http_ece directly, spelled out
    assert (
        http_ece.decrypt(
            body,
            private_key=browser.private_key,
            auth_secret=ece.b64url_decode(browser.auth),
            version="aes128gcm",
        )
        == message
    )


def test_every_message_has_a_fresh_salt_and_sender_key() -> None:
    browser = BrowserKeys.generate()
    receiver = ece.parse_receiver(browser.p256dh, browser.auth)
    first, second = ece.encrypt(b"x", receiver), ece.encrypt(b"x", receiver)
    assert first[:16] != second[:16]
    assert first[21:86] != second[21:86]


def test_plaintext_over_one_record_is_refused() -> None:
    browser = BrowserKeys.generate()
    receiver = ece.parse_receiver(browser.p256dh, browser.auth)
    ece.encrypt(b"x" * ece.MAX_PLAINTEXT_BYTES, receiver)
    with pytest.raises(ValueError):
        ece.encrypt(b"x" * (ece.MAX_PLAINTEXT_BYTES + 1), receiver)


@pytest.mark.parametrize(
    ("p256dh", "auth"),
    [
        ("not base64!", RFC_AUTH),
        (RFC_UA_PUBLIC, "%%%"),
        (RFC_UA_PUBLIC[:-4], RFC_AUTH),  # too short
        ("A" + RFC_UA_PUBLIC[1:], RFC_AUTH),  # not 0x04-prefixed
        (RFC_UA_PUBLIC, RFC_AUTH + "AA"),  # auth too long
        ("BA" + "A" * 85, RFC_AUTH),  # 0x04 || zeros: not on the curve
    ],
)
def test_bad_receiver_keys(p256dh: str, auth: str) -> None:
    with pytest.raises(SubscriptionError):
        ece.parse_receiver(p256dh, auth)


def test_b64url_round_trip_and_padding() -> None:
    assert ece.b64url_decode("AQ==") == b"\x01"
    assert ece.b64url_decode(ece.b64url_encode(b"\xff\xfe")) == b"\xff\xfe"
    with pytest.raises(ValueError):
        ece.b64url_decode("a+b/")


def test_vapid_header_verifies_with_py_vapid() -> None:
    key = vapid.generate_private_key()
    signer = vapid.VapidSigner(key, "mailto:ops@example.org")
    header = signer.authorization("https://push.example.net:8443/send/abc", now_s=1_000_000)
    assert header.startswith("vapid t=")
    assert Vapid02.verify(header.replace(", k=", ",k="))
    token = header.split("t=", 1)[1].split(",", 1)[0]
    claims = decode_claims(token)
    assert claims == {
        "aud": "https://push.example.net:8443",
        "exp": 1_000_000 + vapid.TOKEN_LIFETIME_S,
        "sub": "mailto:ops@example.org",
    }
    assert header.endswith("k=" + signer.public_key)


def test_vapid_token_is_cached_per_origin_and_renewed_before_expiry() -> None:
    signer = vapid.VapidSigner(vapid.generate_private_key(), "https://yure.example.org")
    first = signer.authorization("https://a.example/1", now_s=0)
    assert signer.authorization("https://a.example/2", now_s=60) == first
    assert signer.authorization("https://b.example/1", now_s=60) != first
    late = vapid.TOKEN_LIFETIME_S - vapid.RESIGN_BEFORE_S
    assert signer.authorization("https://a.example/1", now_s=late) != first


def test_vapid_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vapid, "MAX_CACHED_AUDIENCES", 2)
    signer = vapid.VapidSigner(vapid.generate_private_key(), "mailto:a@example.org")
    for host in ("a", "b", "c"):
        signer.authorization(f"https://{host}.example/x", now_s=0)
    assert len(signer._cache) <= 2


def decode_claims(token: str) -> dict[str, object]:
    import json

    return dict(json.loads(ece.b64url_decode(token.split(".")[1])))


def test_private_key_round_trip_and_errors() -> None:
    key = vapid.generate_private_key()
    again = vapid.private_key_from_b64(vapid.private_key_to_b64(key))
    assert vapid.public_key_b64(again) == vapid.public_key_b64(key)
    for bad in ("", "***", ece.b64url_encode(b"\x01" * 31), ece.b64url_encode(b"\x00" * 32)):
        with pytest.raises(VapidKeyError):
            vapid.private_key_from_b64(bad)


def test_key_file_made_once_with_mode_0600(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = keyfile.load_or_create(data_dir, None)
    path = data_dir / keyfile.KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = keyfile.load_or_create(data_dir, None)
    assert vapid.public_key_b64(first) == vapid.public_key_b64(second)
    assert [p.name for p in data_dir.iterdir()] == [keyfile.KEY_FILE_NAME]


def test_configured_key_wins_and_no_file_is_written(tmp_path: Path) -> None:
    key = vapid.generate_private_key()
    loaded = keyfile.load_or_create(tmp_path, vapid.private_key_to_b64(key))
    assert vapid.public_key_b64(loaded) == vapid.public_key_b64(key)
    assert not (tmp_path / keyfile.KEY_FILE_NAME).exists()


def test_unusable_key_file(tmp_path: Path) -> None:
    (tmp_path / keyfile.KEY_FILE_NAME).write_text("garbage")
    with pytest.raises(VapidKeyError):
        keyfile.load_or_create(tmp_path, None)
    (tmp_path / keyfile.KEY_FILE_NAME).write_bytes(b"A" * (keyfile.MAX_KEY_FILE_BYTES + 1))
    with pytest.raises(VapidKeyError, match="larger"):
        keyfile.load_or_create(tmp_path, None)


def test_unwritable_data_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(VapidKeyError):
        keyfile.load_or_create(blocker / "sub", None)


def test_generated_keys_are_p256() -> None:
    assert isinstance(vapid.generate_private_key().curve, ec.SECP256R1)
