"""nginx (a server we did not write) serving a folder as the per-file CDN, over HTTP and HTTPS.

Our own CDN server (``tests.fakes.cdn``) shares its request handling with our Hub server and was
written against our client: a misunderstanding shared by both cannot show there. nginx is the
reference static server: a missing object is ``404`` (the real CDN says ``403``), ``deny`` gives
``403``, a wrong ``If-Match`` is ``412``, several ranges get ``multipart/byteranges``. Everything
under ``/denied/`` answers ``403`` so that both kinds of absence are exercised on one server.

The HTTPS listener uses a self-signed certificate for ``127.0.0.1`` made here with ``openssl``
(an EC key: quick); clients trust it through ``SSL_CERT_FILE``. Requests are counted from
nginx's own access log (``requests()``). Started on free loopback ports with bounded waits;
``nginx_available()`` says why not when it cannot be. The fixture, ``make_nginx``, is in
``tests.fakes.fixtures``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .process import ServerProcess, executable, free_port

START_TIMEOUT_S = 10.0
DENIED = "denied"  # the URL prefix nginx answers with 403

CONF = """
worker_processes {workers};
pid {d}/nginx.pid;
error_log {d}/error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
    log_format counted '$request_method $uri $status $body_bytes_sent "$http_range"';
    access_log {d}/access.log counted;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 100000;
    default_type application/octet-stream;
    client_body_temp_path {d}/tmp;
    proxy_temp_path {d}/tmp;
    fastcgi_temp_path {d}/tmp;
    uwsgi_temp_path {d}/tmp;
    scgi_temp_path {d}/tmp;
    server {{
        listen 127.0.0.1:{port};
{tls}        root {www};
        location / {{ }}
        location /{denied}/ {{ deny all; }}
    }}
}}
"""


def nginx_binary() -> str | None:
    return executable("nginx", "/usr/sbin/nginx")


def nginx_available() -> str | None:
    """None when nginx and openssl can run here, else the reason (for a skip)."""
    if nginx_binary() is None:
        return "nginx is not installed (scripts/test_extras.sh installs nginx-light)"
    if shutil.which("openssl") is None:
        return "openssl is not installed (needed for the test certificate)"
    return None


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate valid for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + ["-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


@dataclass(frozen=True)
class Logged:
    method: str
    uri: str
    status: int
    sent: int
    range: str | None


TLS = """        listen 127.0.0.1:{tls_port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
"""


class NginxServer(ServerProcess):
    """nginx over ``root`` at ``.http`` and, given a certificate, ``.https``; start()/stop() or
    ``with``. The benchmarks use it too (``workers=2``), so tests and figures see one server."""

    name = "nginx"

    def __init__(
        self,
        root: Path,
        state: Path,
        cert: Path | None = None,
        key: Path | None = None,
        workers: int = 1,
    ) -> None:
        self.root, self.state = Path(root).resolve(), Path(state)
        self.cert, self.key, self.workers = cert, key, workers
        self.port = free_port()
        self.tls_port = free_port() if cert else None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def https(self) -> str:
        return f"https://127.0.0.1:{self.tls_port}"

    def start(self) -> NginxServer:
        (self.state / "tmp").mkdir(parents=True, exist_ok=True)
        conf = self.state / "nginx.conf"
        tls = TLS.format(tls_port=self.tls_port, cert=self.cert, key=self.key) if self.cert else ""
        conf.write_text(
            CONF.format(
                d=self.state,
                workers=self.workers,
                user="user root;" if os.geteuid() == 0 else "",
                port=self.port,
                tls=tls,
                www=self.root,
                denied=DENIED,
            )
        )
        argv = [nginx_binary() or "nginx", "-p", str(self.state), "-c", str(conf)]
        self.proc = subprocess.Popen(
            [*argv, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.wait_listening(
            (self.port, self.tls_port) if self.cert else (self.port,), START_TIMEOUT_S
        )
        return self

    def requests(self) -> list[Logged]:
        """Every request nginx has logged so far (it writes each line when it answers)."""
        log = self.state / "access.log"
        if not log.exists():
            return []
        out = []
        for line in log.read_text().splitlines():
            method, uri, status, sent, rng = line.split(" ", 4)
            rng = rng.strip('"')
            out.append(Logged(method, uri, int(status), int(sent), None if rng == "-" else rng))
        return out

    def reset_log(self) -> None:
        log = self.state / "access.log"
        if log.exists():
            log.write_text("")  # nginx appends (O_APPEND): truncating is safe
