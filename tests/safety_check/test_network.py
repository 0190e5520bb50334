"""Address subjects (IPv4 /32 or /24, IPv6 /64, keyed hashes), the server secret, and the
login delay schedule."""

from __future__ import annotations

from pathlib import Path

import pytest

from yure.errors import ConfigError
from yure.safety_check.guesses import GuessPolicy, delay_after
from yure.safety_check.network import Subjects, address_of, network_of
from yure.safety_check.secret import SECRET_FILE, address_secret, load_or_create
from yure.settings import Settings

SECRET = b"k" * 32


@pytest.mark.parametrize(
    ("raw", "address", "network"),
    [
        ("192.0.2.7", "192.0.2.7", "192.0.2.0/24"),
        ("::ffff:192.0.2.7", "192.0.2.7", "192.0.2.0/24"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64", "fe80::/64"),
        (None, "unknown", "unknown"),
        ("", "unknown", "unknown"),
        ("not an address", "unknown", "unknown"),
    ],
)
def test_address_and_network(raw: str | None, address: str, network: str) -> None:
    assert address_of(raw) == address
    assert network_of(raw) == network


def test_subjects_are_keyed_hashes() -> None:
    subjects = Subjects(SECRET)
    a = subjects.address("192.0.2.7")
    assert a.startswith("ip-") and "192" not in a and len(a) == 3 + 24
    assert subjects.address("192.0.2.8") != a
    assert subjects.network("192.0.2.8") == subjects.network("192.0.2.7")
    assert subjects.network("192.0.3.7") != subjects.network("192.0.2.7")
    # One /64 is one client: rotating the interface id does not give a new subject.
    assert subjects.address("2001:db8::1") == subjects.address("2001:db8::ffff:1")
    assert Subjects(b"o" * 32).address("192.0.2.7") != a
    with pytest.raises(ValueError, match="secret"):
        Subjects(b"short")


def test_secret_is_made_once_and_kept(tmp_path: Path) -> None:
    first = load_or_create(tmp_path / "d" / SECRET_FILE)
    assert len(first) == 64
    assert (tmp_path / "d" / SECRET_FILE).stat().st_mode & 0o777 == 0o600
    assert load_or_create(tmp_path / "d" / SECRET_FILE) == first
    assert address_secret(Settings(data_dir=tmp_path / "d")) == first
    assert address_secret(Settings(address_secret="e" * 32)) == b"e" * 32
    (tmp_path / "bad").write_text("short\n")
    with pytest.raises(ConfigError, match="no usable secret"):
        load_or_create(tmp_path / "bad")
    blocked = tmp_path / "file"
    blocked.write_text("")
    with pytest.raises(ConfigError, match="cannot keep"):
        load_or_create(blocked / SECRET_FILE)


def test_delays_double_after_the_free_failures() -> None:
    policy = GuessPolicy("t", 2, 1.0, 10.0, 60.0)
    assert [delay_after(policy, n) for n in range(8)] == [0, 0, 0, 1, 2, 4, 8, 10]
    assert delay_after(policy, 10**9) == 10.0
    with pytest.raises(ValueError):
        GuessPolicy("bad", -1, 1.0, 10.0, 60.0)
