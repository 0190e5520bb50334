"""sender.classify / parse_retry_after: what each push service answer means."""

from __future__ import annotations

import pytest

from yure.push.limits import MAX_RETRY_AFTER_S
from yure.push.sender import Outcome, classify, parse_retry_after

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (201, Outcome.DELIVERED),
        (200, Outcome.DELIVERED),
        (202, Outcome.DELIVERED),
        (404, Outcome.GONE),
        (410, Outcome.GONE),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (502, Outcome.RETRY),
        (503, Outcome.RETRY),
        (400, Outcome.REJECTED),
        (401, Outcome.REJECTED),
        (403, Outcome.REJECTED),
        (413, Outcome.REJECTED),
        (301, Outcome.REJECTED),
    ],
)
def test_classify(status: int, outcome: Outcome) -> None:
    assert classify(status, None, NOW).outcome is outcome


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("120", 120.0),
        (" 7 ", 7.0),
        ("999999", MAX_RETRY_AFTER_S),
        ("Fri, 15 Jan 2027 08:00:30 GMT", 30.0),
        ("Fri, 15 Jan 2027 07:59:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
    ],
)
def test_retry_after(value: str | None, seconds: float | None) -> None:
    now = NOW  # 2027-01-15T08:00:00Z
    assert parse_retry_after(value, now) == seconds


def test_429_carries_its_retry_after() -> None:
    result = classify(429, "3", NOW)
    assert (result.outcome, result.retry_after_s, result.status) == (Outcome.RETRY, 3.0, 429)
