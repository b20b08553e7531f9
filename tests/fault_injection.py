"""Faults for the fault tests (tests/load): API servers to kill -9 and start again, a Redis of the test's own to
stop and start (never the machine's shared one), a TCP proxy in front of the real PostgreSQL that the servers
connect through (stopping it is a PostgreSQL outage: live connections die, new ones are refused), and the
termination of the app role's PostgreSQL sessions on this run's database only.

Every wait here waits on a condition within a bound; nothing sleeps to prove that something did not happen.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import httpx
import psycopg
import redis
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
SERVICE_ROLE = "carbonx_service_test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], object], timeout_s: float, what: str, interval_s: float = 0.05) -> float:
    """Wait until `condition()` is true; the seconds it took. Fails the test with `what` after the bound."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > timeout_s:
            raise AssertionError(f"{what}: not within {timeout_s} s")
        time.sleep(interval_s)
    return time.monotonic() - began


def libpq_dsn(url: str) -> str:
    """A SQLAlchemy URL as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# --- API servers ---------------------------------------------------------------------------------------------
class ServerProcess:
    """`python -m api serve` on a port, its output in a log file."""

    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.port, self.env, self.log = port, env, log
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout_s: float = 40.0) -> float:
        """Start the server and wait until /health answers; the seconds that took."""
        began = time.monotonic()
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "api", "serve", "--port", str(self.port)],
                                            cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        while time.monotonic() - began < timeout_s:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited with {self.process.returncode}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return time.monotonic() - began
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the server did not answer /health within {timeout_s} s:\n{self.tail()}")

    def kill_dash_nine(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def server_env(database_url: str, redis_url: str, data_dir: Path, secret: str, **more: str) -> dict[str, str]:
    """The environment of a test server: its database and Redis, a JWT secret, no rate limit, an open market."""
    return {**os.environ, "CARBONX_DATABASE_URL": database_url, "CARBONX_REDIS_URL": redis_url,
            "CARBONX_JWT_SECRET": secret, "CARBONX_RATE_LIMIT_PER_MINUTE": "10000000",
            "CARBONX_MARKET_ALWAYS_OPEN": "true", "CARBONX_DATA_DIR": str(data_dir), **more}


# --- a Redis of the test's own -------------------------------------------------------------------------------
class PrivateRedis:
    """`redis-server` on a free port with no persistence: stopping it and starting it again is a Redis that
    restarts empty. Never the machine's shared server."""

    def __init__(self, log: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise AssertionError("redis-server is not on PATH: the fault tests start a Redis of their own")
        self.binary, self.log = binary, log
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=out, stderr=subprocess.STDOUT)
        probe = redis.Redis(port=self.port, socket_connect_timeout=1)

        def up() -> bool:
            try:
                return bool(probe.ping())
            except redis.RedisError:
                assert self.process is not None and self.process.poll() is None, self.log.read_text()[-2000:]
                return False

        try:
            wait_for(up, timeout_s, "the private Redis did not answer PING")
        finally:
            probe.close()

    def stop(self) -> None:
        """Kill it (-9: no chance to save anything, and it was told to save nothing)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


# --- a TCP proxy in front of PostgreSQL ----------------------------------------------------------------------
class TcpProxy:
    """Forwards 127.0.0.1:<port> to an upstream address, two threads per connection. `stop()` is an outage:
    it closes the listener (new connections are refused) and cuts every live connection; `start()` listens on
    the same port again."""

    def __init__(self, upstream_host: str, upstream_port: int, port: int | None = None) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = port or free_port()
        self._listener: socket.socket | None = None
        self._links: set[socket.socket] = set()
        self._mutex = threading.Lock()
        self._running = False
        self.connections_made = 0

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        with self._mutex:
            self._listener, self._running = listener, True
        threading.Thread(target=self._accept, args=(listener,), name="proxy-accept", daemon=True).start()

    def stop(self) -> int:
        """Refuse new connections and cut the live ones; how many were cut."""
        with self._mutex:
            self._running = False
            listener, self._listener = self._listener, None
            links, self._links = self._links, set()
        if listener is not None:
            _close(listener)
        for link in links:
            _close(link)
        return len(links) // 2

    def live_connections(self) -> int:
        with self._mutex:
            return len(self._links) // 2

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed: stopped
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            for link in (client, server):
                link.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._mutex:
                if not self._running:
                    _close(client)
                    _close(server)
                    return
                self._links.update((client, server))
                self.connections_made += 1
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), name="proxy-pump", daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        with self._mutex:
            self._links.discard(source)
            self._links.discard(sink)
        _close(source)
        _close(sink)


def _close(link: socket.socket) -> None:
    with suppress(OSError):
        link.shutdown(socket.SHUT_RDWR)
    link.close()


def through_proxy(database_url: str, proxy: TcpProxy) -> str:
    """The same database URL, reaching PostgreSQL through the proxy."""
    return make_url(database_url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


def upstream_of(database_url: str) -> tuple[str, int]:
    url = make_url(database_url)
    return url.host or "127.0.0.1", url.port or 5432


# --- PostgreSQL sessions ---------------------------------------------------------------------------------------
def terminate_service_sessions(owner_url: str, role: str = SERVICE_ROLE) -> int:
    """End every session of the app's role on this run's database (as its owner), as a failover or a network
    blip would; never another database's sessions (other test runs share the server). How many were ended."""
    with psycopg.connect(libpq_dsn(owner_url), autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s "
            "AND datname = current_database() AND pid <> pg_backend_pid()", (role,)).fetchall()
    return sum(1 for (ended,) in rows if ended)
