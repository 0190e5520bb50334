"""``python -m yure`` runs the same command line as the ``yure`` script."""

from __future__ import annotations

import json
import runpy

import pytest


@pytest.mark.parametrize(
    ("argv", "status"), [(["geo", "38.2682", "140.8694"], 0), (["geo", "abc", "1"], 1)]
)
def test_python_m_yure_exits_with_the_handlers_status(
    argv: list[str],
    status: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.argv", ["yure", *argv])
    with pytest.raises(SystemExit) as exc_info:
        runpy.run_module("yure", run_name="__main__")
    assert exc_info.value.code == status
    out = capsys.readouterr().out
    if status == 0:
        assert json.loads(out)["pref"] == "04"
    else:
        assert out == ""
