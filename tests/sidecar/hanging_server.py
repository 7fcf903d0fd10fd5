"""A real HTTP dependency that hangs: it accepts connections, reads requests and never answers."""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType

from tests.collector.processes import wait_for


class HangingServer:
    """Listens on a loopback port; every request it reads is counted and then held without an answer
    until :meth:`release` drops the connections held so far (the client sees the server disconnect)."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        self._held: list[socket.socket] = []
        self._request_lines: list[str] = []
        threading.Thread(target=self._accept, name="hanging-server", daemon=True).start()

    @property
    def requests(self) -> int:
        """How many requests arrived (each read up to the end of its headers)."""
        with self._lock:
            return len(self._request_lines)

    def wait_for_requests(self, count: int, timeout: float = 15) -> None:
        wait_for(lambda: self.requests >= count, timeout, f"{count} request(s) at {self.url}", 0.02)

    def release(self) -> None:
        """Closes every connection held so far, without an answer; later ones are held again."""
        with self._lock:
            held, self._held = self._held, []
        for connection in held:
            connection.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self._listener.close()
        self.release()

    def __enter__(self) -> HangingServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._held.append(connection)
            threading.Thread(target=self._read, args=(connection,), daemon=True).start()

    def _read(self, connection: socket.socket) -> None:
        received = b""
        try:
            while b"\r\n\r\n" not in received:
                chunk = connection.recv(4096)
                if not chunk:
                    return
                received += chunk
        except OSError:
            return
        with self._lock:
            self._request_lines.append(received.split(b"\r\n", 1)[0].decode("latin-1"))
