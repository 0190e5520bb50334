"""yure.commands.main (the CLI root): settings are read once from the environment and fail fast."""

from __future__ import annotations

import pytest

from yure.commands import main


def test_bad_environment_exits_2_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("YURE_PORT", "http")
    assert main(["geo", "38.2682", "140.8694"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("yure: configuration error: YURE_PORT=")
