"""The deployment files in docs/deploy/ are valid for the tools that read them.

docs/deploy/nginx.conf is run by a real nginx in tests/web/test_nginx.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "docs" / "deploy" / "yure.service"
SHIPPED_EXEC = "ExecStart=/opt/yure/bin/yure "


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    """``systemd-analyze verify`` prints nothing for a good unit; it warns (exit 0) on
    unknown keys and bad values, so any output fails. The executable path is pointed at
    this environment's ``yure`` (verify checks that it exists)."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: run the apt step of .ci/run (systemd)"
    text = UNIT.read_text()
    assert text.count(SHIPPED_EXEC) == 1
    yure = Path(sys.executable).with_name("yure")
    assert yure.exists()
    unit = tmp_path / "yure.service"
    unit.write_text(text.replace(SHIPPED_EXEC, f"ExecStart={yure} "))
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
    assert result.stdout.strip() == "", result.stdout
