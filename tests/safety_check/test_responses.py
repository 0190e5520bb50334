"""The one error → HTTP mapping (safety_check.responses)."""

from __future__ import annotations

import orjson

from yure.safety_check import errors
from yure.safety_check.responses import ERROR_STATUS, error_response, status_of


class _Narrower(errors.InvalidInput):
    pass


def test_every_error_class_is_mapped() -> None:
    leaves = [
        c
        for c in vars(errors).values()
        if isinstance(c, type)
        and c is not errors.SafetyCheckError
        and issubclass(c, errors.SafetyCheckError)
    ]
    assert set(leaves) == set(ERROR_STATUS)
    assert status_of(_Narrower("x")) == 400  # nearest mapped base class
    assert status_of(errors.SafetyCheckError("x")) == 500


def test_error_bodies_and_headers() -> None:
    resp = error_response(errors.RateLimited("slow down", retry_after_s=7))
    assert resp.status == 429 and resp.headers["Retry-After"] == "7"
    assert isinstance(resp.body, bytes)
    assert orjson.loads(resp.body) == {"error": "rate_limited", "message": "slow down"}
    resp = error_response(errors.Unauthorized("no"))
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert resp.headers["Cache-Control"] == "no-store"
