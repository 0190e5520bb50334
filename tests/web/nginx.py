"""Debian's nginx running docs/deploy/nginx.conf in a temp dir, for the proxy tests.

The shipped file is used as it is, with only its example values replaced (the upstream
port, the listening ports, the certificate paths); each replaced value must occur in the
file, so the test fails when the document changes shape instead of testing something else.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "docs" / "deploy" / "nginx.conf"
NGINX = Path("/usr/sbin/nginx")
#: Bound of nginx's start and stop.
NGINX_WAIT_S = 15.0
INSTALL_HINT = "nginx or openssl is missing: run the apt step of .ci/run"


@dataclass(frozen=True)
class Nginx:
    tls_port: int
    http_port: int
    ca_file: Path
    log_dir: Path

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.tls_port}"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl, an EC key: fast)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-nodes", "-days", "1", "-newkey", "ec"),
            *("-pkeyopt", "ec_paramgen_curve:prime256v1", "-subj", "/CN=yure.test"),
            *("-keyout", str(key)),
            *("-out", str(cert), "-addext", "subjectAltName=IP:127.0.0.1,DNS:yure.test"),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def site_config(upstream_port: int, tls_port: int, http_port: int, cert: Path, key: Path) -> str:
    """docs/deploy/nginx.conf with its example values replaced."""
    text = NGINX_CONF.read_text()
    replacements = {
        "server 127.0.0.1:8080;": f"server 127.0.0.1:{upstream_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{tls_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "/etc/letsencrypt/live/yure.example.org/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/yure.example.org/privkey.pem": str(key),
    }
    for old, new in replacements.items():
        assert text.count(old) == 1, f"{NGINX_CONF} no longer has exactly one {old!r}"
        text = text.replace(old, new)
    return text


@contextmanager
def running_nginx(folder: Path, upstream_port: int) -> Iterator[Nginx]:
    """nginx in the foreground under ``folder`` in front of ``127.0.0.1:upstream_port``."""
    assert NGINX.exists() and shutil.which("openssl"), INSTALL_HINT
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed(folder)
    tls_port, http_port = free_port(), free_port()
    (folder / "yure.conf").write_text(site_config(upstream_port, tls_port, http_port, cert, key))
    temp = "\n".join(
        f"    {name}_temp_path {folder / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root nginx's workers would switch to "nobody", who cannot enter pytest's 0700 dirs.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} notice;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n    access_log {folder / 'access.log'};\n{temp}\n"
        f"    include {folder / 'yure.conf'};\n}}\n"
    )
    command = [str(NGINX), "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", "stderr"]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    with (folder / "nginx.stderr").open("wb") as stderr:
        process = subprocess.Popen(command, stderr=stderr)
    try:
        deadline = time.monotonic() + NGINX_WAIT_S
        while True:
            assert process.poll() is None, (folder / "nginx.stderr").read_text()
            try:
                socket.create_connection(("127.0.0.1", tls_port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "nginx did not listen"
                time.sleep(0.02)
        yield Nginx(tls_port=tls_port, http_port=http_port, ca_file=cert, log_dir=folder)
    finally:
        process.terminate()
        process.wait(timeout=NGINX_WAIT_S)
