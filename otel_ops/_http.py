"""httpx clients that set TLS up on their first ``https://`` request, not when they are built.

An httpx client loads its CA bundle as it is built: 1-1.5 MB of a process's memory and about 2 ms, for
every client. The stack's URLs are plain ``http://`` on one machine, so the sidecar (a
long-running process with a memory budget) and the alert pointers it looks up per webhook pay for TLS
only when a URL they are given is ``https://``. Certificates are then verified as httpx always does
(its CA bundle, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``).
"""

from __future__ import annotations

import ssl
import threading
from typing import Any

import httpx


def _no_tls() -> ssl.SSLContext:
    """For the plain transport, which only sees ``http://`` URLs: TLS through it would fail verification
    (no CA loaded) rather than go unverified."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class _LazyTLSTransport(httpx.BaseTransport):
    def __init__(self) -> None:
        self._plain = httpx.HTTPTransport(verify=_no_tls())
        self._tls: httpx.HTTPTransport | None = None
        self._lock = threading.Lock()  # a client may be shared by threads: one TLS transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme != "https":
            return self._plain.handle_request(request)
        if self._tls is None:
            with self._lock:
                if self._tls is None:
                    self._tls = httpx.HTTPTransport()
        return self._tls.handle_request(request)

    def close(self) -> None:
        self._plain.close()
        if self._tls is not None:
            self._tls.close()


class _AsyncLazyTLSTransport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self._plain = httpx.AsyncHTTPTransport(verify=_no_tls())
        self._tls: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme != "https":
            return await self._plain.handle_async_request(request)
        if self._tls is None:  # no await between the check and the assignment: one transport per loop
            self._tls = httpx.AsyncHTTPTransport()
        return await self._tls.handle_async_request(request)

    async def aclose(self) -> None:
        await self._plain.aclose()
        if self._tls is not None:
            await self._tls.aclose()


def client(**options: Any) -> httpx.Client:
    """An :class:`httpx.Client` (``options`` as httpx takes them, but ``transport``)."""
    return httpx.Client(transport=_LazyTLSTransport(), **options)


def async_client(**options: Any) -> httpx.AsyncClient:
    """An :class:`httpx.AsyncClient` (``options`` as httpx takes them, but ``transport``)."""
    return httpx.AsyncClient(transport=_AsyncLazyTLSTransport(), **options)
