"""The requests of the SDK protocol (docs/control-plane.md, SDK routes).

HTTP/1.1 is spoken by `h11 <https://h11.readthedocs.io>`_ (a well-kept, sans-IO protocol
library) over stdlib ``socket`` / ``ssl``. Not urllib3 or ``http.client``: their blocking
reads can only be interrupted by a socket timeout, which kills the connection. The client
has one refresh thread per client, and while a stream is open for minutes that thread
must still wake up every tick (staleness, ``close()``, the watchdog). Reading the raw
socket with a short timeout and feeding h11 keeps the connection intact across wake-ups.
Snapshot requests open a connection each (one every poll interval at most); proxies are
not supported.

Timeouts (docs/sdk.md): connect 5 s, a whole snapshot request 10 s; a stream has none,
only the watchdog (no byte for ``watchdog`` seconds).
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Tuple, Union
from urllib.parse import urlsplit

import h11

from pennon._errors import ClientError
from pennon._native import __version__

CONNECT_TIMEOUT = 5.0
REQUEST_TIMEOUT = 10.0
USER_AGENT = f"pennon-python/{__version__}"
_MAX_SNAPSHOT = 256 * 1024 * 1024

Idle = Callable[[], bool]
"""Called on every tick while waiting for the network; ``False`` means the client closed."""


class Failure(Exception):
    """A failed check. ``auth`` marks 401/403: not a breaker failure, never retried faster
    than the poll interval."""

    def __init__(self, code: str, message: str, auth: bool = False) -> None:
        super().__init__(message)
        self.error = ClientError(code, message)
        self.auth = auth

    @classmethod
    def of(cls, error: ClientError) -> "Failure":
        """A refused snapshot (signature, core's load code...) as a failed check."""
        failure = cls(error.code, error.message)
        failure.error = error
        return failure


class Closed(Exception):
    """The client was closed while a request was in flight."""


class Silent(Exception):
    """A stream sent nothing for longer than its watchdog."""


@dataclass(frozen=True)
class Fetched:
    """A ``GET /sdk/v1/snapshot`` answer: ``not_modified`` (304) or the exact body bytes."""

    not_modified: bool
    body: bytes = b""
    signature: Optional[str] = None
    etag: Optional[str] = None


def _header(response: h11.Response, name: bytes) -> Optional[str]:
    for key, value in response.headers:
        if key == name:
            return value.decode("latin-1")
    return None


def _check_status(response: h11.Response, base: str) -> None:
    check_status(response.status_code, base)


def check_status(status: int, base: str) -> None:
    """Raises the ``Failure`` of a non-2xx ``status`` (``base``: where it came from)."""
    if 200 <= status < 300:
        return
    if status == 401:
        raise Failure(
            "unauthorized",
            f"the SDK key was refused (unknown, revoked or malformed): check sdk_key (HTTP 401 from {base})",
            auth=True,
        )
    if status == 403:
        raise Failure(
            "forbidden",
            f"the SDK key may not read this (is it an SDK key for this environment?) (HTTP 403 from {base})",
            auth=True,
        )
    if 500 <= status <= 599:
        raise Failure("server_error", f"the server failed (HTTP {status} from {base})")
    raise Failure("http_error", f"unexpected answer (HTTP {status} from {base})")


class _Exchange:
    """One request on its own connection, read through h11."""

    def __init__(self, sock: socket.socket, idle: Idle, tick: float) -> None:
        self.sock = sock
        self.conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=64 * 1024)
        self.idle = idle
        self.tick = tick

    def send(self, target: str, host: str, headers: List[Tuple[str, str]]) -> None:
        request = h11.Request(method="GET", target=target, headers=[("Host", host), *headers])
        self.sock.sendall(self.conn.send(request) + self.conn.send(h11.EndOfMessage()))

    def next_event(
        self, deadline: Optional[float], silent_after: Optional[float], what: str, timeout: float = REQUEST_TIMEOUT
    ) -> h11.Event:
        """The next h11 event. Raises ``Failure('timeout')`` past ``deadline`` (monotonic; it
        is ``timeout`` seconds after the request), ``Silent`` after ``silent_after`` seconds
        without a byte, ``Closed``."""
        last_byte = time.monotonic()
        while True:
            try:
                event = self.conn.next_event()
            except h11.RemoteProtocolError as error:
                raise Failure("network_error", f"{what}: the answer was cut short or malformed ({error})") from None
            if event is not h11.NEED_DATA:
                assert not isinstance(event, type)  # h11.PAUSED is not reachable for a client
                return event
            now = time.monotonic()
            wait = self.tick
            if deadline is not None:
                if now >= deadline:
                    raise Failure("timeout", f"{what}: no complete answer within {timeout:g} s")
                wait = min(wait, deadline - now)
            if silent_after is not None:
                if now - last_byte >= silent_after:
                    raise Silent()
                wait = min(wait, last_byte + silent_after - now)
            self.sock.settimeout(max(wait, 0.001))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                if not self.idle():
                    raise Closed() from None
                continue
            except OSError as error:
                if not self.idle():
                    raise Closed() from None
                raise Failure("network_error", f"{what}: {error}") from None
            last_byte = time.monotonic()
            self.conn.receive_data(data)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class Stream:
    """An open ``GET /sdk/v1/stream`` whose headers said 200."""

    def __init__(self, exchange: _Exchange, watchdog: float) -> None:
        self._exchange = exchange
        self._watchdog = watchdog

    def chunks(self) -> Iterator[bytes]:
        """The body as it arrives. Ends when the server ends it cleanly; raises ``Silent``
        past the watchdog, ``Failure('network_error')`` when it breaks, ``Closed``."""
        while True:
            event = self._exchange.next_event(None, self._watchdog, "the stream broke")
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                return

    def close(self) -> None:
        self._exchange.close()


class Http:
    """Requests to one Pennon server (``url``) with one SDK key."""

    def __init__(self, base: str, sdk_key: str, idle: Idle, tick: float) -> None:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ClientError("invalid_config", "url must start with http:// or https://")
        self.base = base
        self._tls = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._tls else 80)
        self._host_header = parts.netloc.rpartition("@")[2]
        self._prefix = parts.path.rstrip("/")
        self._authorization = f"Bearer {sdk_key}"
        self._idle = idle
        self._tick = tick
        self._ssl: Optional[ssl.SSLContext] = ssl.create_default_context() if self._tls else None
        self._active: Optional[_Exchange] = None

    def abort(self) -> None:
        """Unblocks a request in flight (from ``close()``, another thread)."""
        active = self._active
        if active is not None:
            try:
                active.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _open(self, path: str, headers: Dict[str, str], connect_within: float) -> _Exchange:
        try:
            sock = socket.create_connection((self._host, self._port), timeout=min(CONNECT_TIMEOUT, connect_within))
        except socket.timeout:
            raise Failure(
                "timeout", f"request failed: no connection within {CONNECT_TIMEOUT:g} s ({self.base}{path})"
            ) from None
        except OSError as error:
            raise Failure("network_error", f"request failed: {error} ({self.base}{path})") from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._ssl is not None:
                sock = self._ssl.wrap_socket(sock, server_hostname=self._host)
            exchange = _Exchange(sock, self._idle, self._tick)
            all_headers = [
                ("Authorization", self._authorization),
                ("User-Agent", USER_AGENT),
                *headers.items(),
            ]
            exchange.send(self._prefix + path, self._host_header, all_headers)
        except (OSError, h11.LocalProtocolError) as error:
            sock.close()
            raise Failure("network_error", f"request failed: {error} ({self.base}{path})") from None
        self._active = exchange
        return exchange

    def _response(self, exchange: _Exchange, timeout: float, started: float) -> h11.Response:
        event = exchange.next_event(started + timeout, None, "request failed", timeout)
        if not isinstance(event, h11.Response):
            raise Failure("network_error", f"request failed: no answer ({self.base})")
        return event

    def snapshot(self, etag: Optional[str]) -> Fetched:
        """``GET /sdk/v1/snapshot`` (``If-None-Match`` when ``etag``). Raises ``Failure``."""
        started = time.monotonic()
        deadline = started + REQUEST_TIMEOUT
        exchange = self._open("/sdk/v1/snapshot", {"If-None-Match": etag} if etag else {}, REQUEST_TIMEOUT)
        try:
            response = self._response(exchange, REQUEST_TIMEOUT, started)
            if response.status_code == 304:
                return Fetched(not_modified=True)
            _check_status(response, self.base)
            body = bytearray()
            while True:
                event = exchange.next_event(deadline, None, "reading the snapshot failed")
                if isinstance(event, h11.Data):
                    body += event.data
                    if len(body) > _MAX_SNAPSHOT:
                        raise Failure("network_error", "reading the snapshot failed: larger than 256 MiB")
                elif isinstance(event, h11.EndOfMessage):
                    break
                else:
                    raise Failure("network_error", "reading the snapshot failed: the answer was cut short")
            return Fetched(
                not_modified=False,
                body=bytes(body),
                signature=_header(response, b"pennon-signature"),
                etag=_header(response, b"etag"),
            )
        finally:
            self._active = None
            exchange.close()

    def open_stream(self, last_event_id: Optional[int], watchdog: float) -> Stream:
        """``GET /sdk/v1/stream`` with ``Last-Event-ID``, once a 2xx answer's headers arrived
        (within ``watchdog``)."""
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        started = time.monotonic()
        exchange = self._open("/sdk/v1/stream", headers, watchdog)
        try:
            response = self._response(exchange, watchdog, started)
            _check_status(response, self.base)
        except BaseException:
            self._active = None
            exchange.close()
            raise
        return Stream(exchange, watchdog)

    def post_metrics(self, body: str, timeout: float) -> int:
        """``POST /sdk/v1/metrics`` with an outcome batch (JSON text): the HTTP status. On its
        own connection, blocking for ``timeout`` seconds at most in all (no ``idle`` ticks:
        it runs on a tick); raises ``Failure``."""
        path = "/sdk/v1/metrics"
        data = body.encode("utf-8")
        deadline = time.monotonic() + timeout

        def left() -> float:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout()
            return remaining

        try:
            sock = socket.create_connection((self._host, self._port), timeout=min(CONNECT_TIMEOUT, timeout))
        except OSError as error:
            raise self._post_failure(error, path, timeout) from None
        try:
            if self._ssl is not None:
                sock = self._ssl.wrap_socket(sock, server_hostname=self._host)
            conn = h11.Connection(h11.CLIENT)
            request = h11.Request(
                method="POST",
                target=self._prefix + path,
                headers=[
                    ("Host", self._host_header),
                    ("Authorization", self._authorization),
                    ("User-Agent", USER_AGENT),
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(data))),
                ],
            )
            sock.settimeout(left())
            sock.sendall(conn.send(request) + conn.send(h11.Data(data=data)) + conn.send(h11.EndOfMessage()))
            status = 0
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    sock.settimeout(left())
                    conn.receive_data(sock.recv(65536))
                elif isinstance(event, h11.Response):
                    status = event.status_code
                elif isinstance(event, h11.EndOfMessage):
                    return status
                elif isinstance(event, h11.ConnectionClosed):
                    raise Failure("network_error", f"request failed: the answer was cut short ({self.base}{path})")
        except (OSError, h11.ProtocolError) as error:
            raise self._post_failure(error, path, timeout) from None
        finally:
            sock.close()

    def _post_failure(self, error: Exception, path: str, timeout: float) -> Failure:
        if isinstance(error, socket.timeout):
            return Failure("timeout", f"request failed: no answer within {timeout:g} s ({self.base}{path})")
        return Failure("network_error", f"request failed: {error} ({self.base}{path})")

    def finished(self, stream: Union[Stream, None]) -> None:
        """Forgets (and closes) the stream of the last ``open_stream``."""
        self._active = None
        if stream is not None:
            stream.close()
