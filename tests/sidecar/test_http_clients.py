"""The sidecar's and ``otel-ops explain``'s HTTP clients: plain ``http://`` without any TLS set-up, and
``https://`` verified as httpx does (its CA bundle, or ``SSL_CERT_FILE``) from the first such request."""

from __future__ import annotations

import asyncio
import http.server
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from otel_ops import _http as http_clients


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


def _serve(context: ssl.SSLContext | None) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheme = "https" if context is not None else "http"
    try:
        yield f"{scheme}://localhost:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed to make a test certificate (scripts/setup.sh installs it)"
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def https_url(certificate: tuple[Path, Path]) -> Iterator[str]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    yield from _serve(context)


@pytest.fixture
def http_url() -> Iterator[str]:
    yield from _serve(None)


def test_plain_http_answers_without_setting_tls_up(http_url: str) -> None:
    with http_clients.client(timeout=5) as client:
        assert client.get(http_url).text == "hello"
        assert client._transport._tls is None  # type: ignore[attr-defined]  # no CA bundle loaded

    async def fetch() -> str:
        async with http_clients.async_client(timeout=5) as client:
            text = (await client.get(http_url)).text
            assert client._transport._tls is None  # type: ignore[attr-defined]
            return text

    assert asyncio.run(fetch()) == "hello"


def test_https_verifies_against_the_configured_certificates(
    https_url: str, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    with http_clients.client(timeout=5) as client:
        assert client.get(https_url).text == "hello"

    async def fetch() -> str:
        async with http_clients.async_client(timeout=5) as client:
            return (await client.get(https_url)).text

    assert asyncio.run(fetch()) == "hello"


def test_https_refuses_a_certificate_nobody_trusts(https_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with (
        http_clients.client(timeout=5) as client,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY"),
    ):
        client.get(https_url)

    async def fetch() -> None:
        async with http_clients.async_client(timeout=5) as client:
            await client.get(https_url)

    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY"):
        asyncio.run(fetch())
