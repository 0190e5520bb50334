"""The reference-corpus tests skip on a machine without ../shared/reference, but fail in CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import require_reference


@pytest.mark.parametrize("ci", ["true", "True", "1", "yes"])
def test_missing_corpus_fails_in_ci(tmp_path: Path, ci: str) -> None:
    with pytest.raises(pytest.fail.Exception, match="must run in CI"):
        require_reference(tmp_path / "absent", ci=ci)


@pytest.mark.parametrize("ci", [None, "", "false", "0"])
def test_missing_corpus_skips_elsewhere(tmp_path: Path, ci: str | None) -> None:
    with pytest.raises(pytest.skip.Exception, match="not present"):
        require_reference(tmp_path / "absent", ci=ci)


def test_present_corpus_is_returned(tmp_path: Path) -> None:
    assert require_reference(tmp_path, ci="true") == tmp_path
