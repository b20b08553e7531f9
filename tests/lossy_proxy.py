"""A TCP proxy that loses answers, for fault tests: it stands between HTTP clients and a live server and, for a
seeded share of the connections, lets the request through but never lets the answer back.

Each connection carries one request (the clients send `Connection: close`). Its fate is drawn when the proxy
accepts it, from a seeded random sequence:
- pass: the request goes up, the answer comes back;
- lose: the request goes up and the server answers, but the proxy closes the client's connection instead of
  passing the answer on (the client saw nothing: did it happen?);
- cut: the proxy closes the client's connection as soon as the whole request has gone up, while the server is
  still at work, so the client's retry may reach the server before the first attempt has finished;
- twice: the proxy sends the request up twice at the same moment, on two connections (as an intermediary that
  retries on its own does), and passes the client the first one's answer; the other answer is lost.
A lost or cut connection looks the same to the client: closed without an answer. The proxy keeps every answer it
withheld with its request, so a test can tell which attempts took effect and what the server said."""

from __future__ import annotations

import random
import socket
import threading
from dataclasses import dataclass, field
from types import TracebackType

CHUNK = 65536


@dataclass
class Loss:
    """A request whose answer the client never got."""

    fate: str  # "lose", "cut" or "twice"
    request: bytes
    answer: bytes = b""  # what the server answered (its head at least); empty if it answered nothing

    @property
    def status(self) -> int | None:
        """The HTTP status the server answered, if it answered."""
        parts = self.answer.split(b" ", 2)
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


@dataclass
class LossyProxy:
    """Listens on 127.0.0.1 (a free port) and forwards to `target`; see the module's docstring."""

    target: tuple[str, int]
    seed: int
    lose: float  # the share of connections whose answer is lost after the server answered
    cut: float = 0.0  # the share cut as soon as their request has gone up
    twice: float = 0.0  # the share whose request goes up twice at once
    losses: list[Loss] = field(default_factory=list)
    passed: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._threads: list[threading.Thread] = []
        self._closing = False
        self._acceptor = threading.Thread(target=self._accept, name="lossy-proxy", daemon=True)

    def __enter__(self) -> LossyProxy:
        self._acceptor.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self, timeout_s: float = 30) -> None:
        """Stop accepting and wait for the connections in progress (a cut one until its server has answered)."""
        self._closing = True
        self._acceptor.join(timeout_s)
        self._listener.close()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout_s)

    def _fate(self) -> str:
        with self._lock:
            draw = self._random.random()
        for fate, share in (("lose", self.lose), ("cut", self.cut), ("twice", self.twice)):
            if draw < share:
                return fate
            draw -= share
        return "pass"

    def _accept(self) -> None:
        self._listener.settimeout(0.05)  # so that close() is noticed: closing a socket wakes no accept()
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:  # the listener was closed
                return
            client.settimeout(None)
            thread = threading.Thread(target=self._serve, args=(client, self._fate()), daemon=True)
            with self._lock:
                self._threads.append(thread)
            thread.start()

    def _serve(self, client: socket.socket, fate: str) -> None:
        with client, socket.create_connection(self.target) as upstream:
            request = _read_request(client)
            if fate == "twice":
                twin = threading.Thread(target=self._twin, args=(request,), daemon=True)
                with self._lock:
                    self._threads.append(twin)
                twin.start()
            upstream.sendall(request)
            if fate == "cut":
                _close_hard(client)
                self._lost(Loss("cut", request, _read_all(upstream)))
                return
            answer = upstream.recv(CHUNK)
            if fate == "lose":
                _close_hard(client)
                self._lost(Loss("lose", request, answer + _read_all(upstream)))
                return
            while answer:
                client.sendall(answer)
                answer = upstream.recv(CHUNK)
            with self._lock:
                self.passed += 1

    def _twin(self, request: bytes) -> None:
        """The second copy of a request sent twice; nobody gets its answer."""
        with socket.create_connection(self.target) as upstream:
            upstream.sendall(request)
            self._lost(Loss("twice", request, _read_all(upstream)))

    def _lost(self, loss: Loss) -> None:
        with self._lock:
            self.losses.append(loss)


def _read_request(client: socket.socket) -> bytes:
    """One whole HTTP request: its head, then as many bytes of body as its Content-Length says."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(CHUNK)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = client.recv(CHUNK)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def _read_all(upstream: socket.socket) -> bytes:
    """The server's answer to the end (it closes the connection after it: Connection: close)."""
    data = b""
    while chunk := upstream.recv(CHUNK):
        data += chunk
    return data


def _close_hard(client: socket.socket) -> None:
    """Close at once, so the client sees its connection end without an answer."""
    client.shutdown(socket.SHUT_RDWR)
    client.close()
