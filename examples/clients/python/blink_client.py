"""A small client for Blink Store's line protocol.

Standard library only (socket, base64), Python 3.9+. Copy this file into your project.

    from blink_client import BlinkClient, BlinkError

    with BlinkClient("127.0.0.1", 8765) as client:     # or BlinkClient(unix_socket=path)
        client.set("greeting", "hello")                 # str values are stored as UTF-8
        client.get("greeting")                          # b"hello"; None when missing
        client.set("session:42", b"\\x00\\x01", ttl=60)    # expires in 60 seconds

        with client.pipeline() as p:                    # sent together, replies in order
            p.set("a", b"1")
            p.get("a")
        p.results                                       # [True, b"1"]

A client holds one connection, opened on first use. If that connection turns out to be
broken (the server restarted or closed it), the request is sent once more on a new
connection; if the server cannot be reached, BlinkConnectionError says where and why.
Requests from several threads are serialised on the one connection.
"""

from __future__ import annotations

import base64
import binascii
import os
import socket
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

__all__ = ["BlinkClient", "BlinkError", "BlinkConnectionError", "Pipeline", "parse_address"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
_BATCH_BYTES = 64 * 1024

Key = Union[str, bytes]
Value = Union[str, bytes, bytearray, memoryview]


class BlinkError(Exception):
    """The server answered ``ERROR <text>``; ``str(error)`` is the text."""


class BlinkConnectionError(BlinkError):
    """The server cannot be reached, or the connection broke and reconnecting failed."""


class _UnexpectedReply(BlinkError):
    """A reply this client does not understand: the connection is closed after it."""


def parse_address(address: str) -> Tuple[str, int]:
    """Splits ``host:port`` (or ``[v6-host]:port``) into its parts."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {address!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def _key_bytes(key: Key) -> bytes:
    if isinstance(key, str):
        key = key.encode("utf-8")
    elif not isinstance(key, bytes):
        raise TypeError(f"a key must be str or bytes, not {type(key).__name__}")
    if not key:
        raise ValueError("a key must not be empty")
    if any(byte <= 0x20 or byte == 0x7F for byte in key):
        raise ValueError(f"a key must not contain spaces or control bytes: {key!r}")
    return key


def _value_bytes(value: Value) -> bytes:
    if isinstance(value, str):
        value = value.encode("utf-8")
    elif isinstance(value, (bytearray, memoryview)):
        value = bytes(value)
    elif not isinstance(value, bytes):
        raise TypeError(f"a value must be bytes or str, not {type(value).__name__}")
    if b"\n" in value:
        raise ValueError("a value must not contain a line feed (LF): the protocol is line based")
    if value.endswith(b"\r"):
        raise ValueError("a value must not end with a carriage return (CR)")
    return value


def _seconds(seconds: int) -> bytes:
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise TypeError(f"seconds must be an int, not {type(seconds).__name__}")
    return str(seconds).encode()


# Reply parsers: each takes the reply lines of one command (without their line ends)
# and returns the command's result, or raises.


def _raise_if_error(line: bytes) -> None:
    if line == b"ERROR" or line.startswith(b"ERROR "):
        raise BlinkError(line[6:].decode("utf-8", "replace"))


def _unexpected(line: bytes) -> _UnexpectedReply:
    return _UnexpectedReply(f"unexpected reply from the server: {line[:80]!r}")


def _ok(lines: List[bytes]) -> bool:
    line = lines[0]
    _raise_if_error(line)
    if line != b"OK":
        raise _unexpected(line)
    return True


def _ok_or_not_found(lines: List[bytes]) -> bool:
    line = lines[0]
    _raise_if_error(line)
    if line == b"OK":
        return True
    if line == b"NOT_FOUND":
        return False
    raise _unexpected(line)


def _set_then_expire(lines: List[bytes]) -> bool:
    _ok(lines[:1])
    _ok_or_not_found(lines[1:])  # NOT_FOUND: already evicted or deleted; the SET did work
    return True


def _value(lines: List[bytes]) -> Optional[bytes]:
    line = lines[0]
    _raise_if_error(line)
    if line == b"NOT_FOUND":
        return None
    if line == b"VALUE" or line.startswith(b"VALUE "):
        try:
            return base64.b64decode(line[6:], validate=True)
        except binascii.Error:
            pass
    raise _unexpected(line)


def _number(word: bytes, not_found: bool = False) -> Callable[[List[bytes]], Optional[int]]:
    prefix = word + b" "

    def parse(lines: List[bytes]) -> Optional[int]:
        line = lines[0]
        _raise_if_error(line)
        if not_found and line == b"NOT_FOUND":
            return None
        if line.startswith(prefix):
            try:
                return int(line[len(prefix) :])
            except ValueError:
                pass
        raise _unexpected(line)

    return parse


def _pong(lines: List[bytes]) -> bool:
    line = lines[0]
    _raise_if_error(line)
    if line != b"PONG":
        raise _unexpected(line)
    return True


def _info(lines: List[bytes]) -> Dict[str, Union[int, str]]:
    line = lines[0]
    _raise_if_error(line)
    if line != b"INFO" and not line.startswith(b"INFO "):
        raise _unexpected(line)
    fields: Dict[str, Union[int, str]] = {}
    for pair in line[5:].decode("utf-8", "replace").split():
        name, _, text = pair.partition("=")
        fields[name] = int(text) if text.lstrip("-").isdigit() else text
    return fields


def _decoder(encoding: str) -> Callable[[List[bytes]], Optional[str]]:
    def parse(lines: List[bytes]) -> Optional[str]:
        value = _value(lines)
        return None if value is None else value.decode(encoding)

    return parse


class _Command:
    """Request lines for one call and how to read its replies."""

    __slots__ = ("payload", "replies", "parse")

    def __init__(self, payload: bytes, replies: int, parse: Callable[[List[bytes]], Any]):
        self.payload = payload
        self.replies = replies
        self.parse = parse


class _Commands:
    """Builds the request of every method; the client runs each at once, a pipeline
    queues them."""

    def _add(self, command: _Command) -> Any:
        raise NotImplementedError

    def set(self, key: Key, value: Value, ttl: Optional[int] = None) -> Any:
        """Stores ``value`` (bytes, or str as UTF-8) under ``key``; returns True.

        With ``ttl`` the key expires after that many seconds: a SET and an EXPIRE sent
        in one write (a reader in between sees the key without its expiry for a
        moment). A plain SET clears an earlier expiry.
        """
        k = _key_bytes(key)
        line = b"SET " + k + b" " + _value_bytes(value) + b"\n"
        if ttl is None:
            return self._add(_Command(line, 1, _ok))
        line += b"EXPIRE " + k + b" " + _seconds(ttl) + b"\n"
        return self._add(_Command(line, 2, _set_then_expire))

    def get(self, key: Key) -> Any:
        """The value as bytes, or None when the key is missing."""
        return self._add(_Command(b"GET " + _key_bytes(key) + b"\n", 1, _value))

    def get_str(self, key: Key, encoding: str = "utf-8") -> Any:
        """The value decoded as text, or None when the key is missing."""
        return self._add(_Command(b"GET " + _key_bytes(key) + b"\n", 1, _decoder(encoding)))

    def delete(self, key: Key) -> Any:
        """True if the key existed."""
        return self._add(_Command(b"DELETE " + _key_bytes(key) + b"\n", 1, _ok_or_not_found))

    def usage(self) -> Any:
        """The bytes of keys and values stored."""
        return self._add(_Command(b"USAGE\n", 1, _number(b"USAGE")))

    def ping(self) -> Any:
        """True when the server answers PONG."""
        return self._add(_Command(b"PING\n", 1, _pong))

    def expire(self, key: Key, seconds: int) -> Any:
        """Makes the key expire in ``seconds`` (zero or less deletes it); False if
        it is missing."""
        line = b"EXPIRE " + _key_bytes(key) + b" " + _seconds(seconds) + b"\n"
        return self._add(_Command(line, 1, _ok_or_not_found))

    def ttl(self, key: Key) -> Any:
        """Seconds left to live, -1 if the key never expires, None if it is missing."""
        return self._add(_Command(b"TTL " + _key_bytes(key) + b"\n", 1, _number(b"TTL", True)))

    def persist(self, key: Key) -> Any:
        """Removes the key's expiry; False if it is missing."""
        return self._add(_Command(b"PERSIST " + _key_bytes(key) + b"\n", 1, _ok_or_not_found))

    def info(self) -> Any:
        """The server's counters as a dict, e.g. ``{"keys": 3, "hits": 10, ...}``."""
        return self._add(_Command(b"INFO\n", 1, _info))


class BlinkClient(_Commands):
    """One connection to a Blink Store server, over TCP or a Unix socket."""

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        unix_socket: Optional[str] = None,
        timeout: Optional[float] = 5.0,
    ):
        self.host = host
        self.port = port
        self.unix_socket = unix_socket
        self.timeout = timeout
        self._sock: Optional[socket.socket] = None
        self._reader: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, timeout: Optional[float] = 5.0) -> "BlinkClient":
        """A client for ``BLINK_SOCKET`` (a Unix socket path) if set, else ``BLINK_ADDR``
        (``host:port``), else 127.0.0.1:8765."""
        path = os.environ.get("BLINK_SOCKET")
        if path:
            return cls(unix_socket=path, timeout=timeout)
        address = os.environ.get("BLINK_ADDR")
        if address:
            host, port = parse_address(address)
            return cls(host, port, timeout=timeout)
        return cls(timeout=timeout)

    @property
    def address(self) -> str:
        """Where the server is, as shown in messages."""
        if self.unix_socket is not None:
            return self.unix_socket
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __repr__(self) -> str:
        return f"BlinkClient({self.address!r})"

    def __enter__(self) -> "BlinkClient":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def connect(self) -> None:
        """Opens the connection now rather than on first use."""
        with self._lock:
            if self._sock is None:
                self._open()

    def close(self) -> None:
        """Closes the connection; the next request opens a new one."""
        with self._lock:
            self._drop()

    def pipeline(self) -> "Pipeline":
        """Queues requests and sends them together; see Pipeline."""
        return Pipeline(self)

    def _add(self, command: _Command) -> Any:
        return self._run([command], raise_on_error=True)[0]

    def _open(self) -> socket.socket:
        try:
            if self.unix_socket is not None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.settimeout(self.timeout)
                    sock.connect(self.unix_socket)
                except BaseException:
                    sock.close()
                    raise
            else:
                sock = socket.create_connection((self.host, self.port), self.timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as error:
            raise BlinkConnectionError(
                f"cannot connect to Blink Store at {self.address}: {_reason(error)}"
            ) from error
        self._sock = sock
        self._reader = sock.makefile("rb")
        return sock

    def _drop(self) -> None:
        if self._reader is not None:
            self._reader.close()
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._reader = None

    def _read_line(self) -> bytes:
        line = self._reader.readline()
        if not line.endswith(b"\n"):
            raise ConnectionResetError("the server closed the connection")
        return line[:-2] if line.endswith(b"\r\n") else line[:-1]

    def _exchange(self, commands: List[_Command]) -> List[List[bytes]]:
        """Sends the commands in writes of up to 64 KiB (or one command), reading each
        write's replies before the next, so that neither side waits forever on a full
        socket buffer."""
        replies: List[List[bytes]] = []
        batch: List[_Command] = []
        size = 0
        for command in commands:
            if batch and size + len(command.payload) > _BATCH_BYTES:
                replies += self._exchange_batch(batch)
                batch, size = [], 0
            batch.append(command)
            size += len(command.payload)
        return replies + self._exchange_batch(batch)

    def _exchange_batch(self, commands: List[_Command]) -> List[List[bytes]]:
        """Sends the commands in one write and reads all their reply lines; reconnects
        and sends again once if the connection is broken."""
        payload = b"".join(command.payload for command in commands)
        for attempt in (1, 2):
            sock = self._sock if self._sock is not None else self._open()
            try:
                sock.sendall(payload)
                return [[self._read_line() for _ in range(c.replies)] for c in commands]
            except socket.timeout as error:
                self._drop()
                raise BlinkConnectionError(
                    f"no reply from Blink Store at {self.address} within {self.timeout} s"
                ) from error
            except OSError as error:
                self._drop()
                if attempt == 2:
                    raise BlinkConnectionError(
                        f"lost the connection to Blink Store at {self.address}: {_reason(error)}"
                    ) from error
        raise AssertionError("unreachable")

    def _run(self, commands: List[_Command], raise_on_error: bool) -> List[Any]:
        if not commands:
            return []
        with self._lock:
            replies = self._exchange(commands)
            results: List[Any] = []
            for command, lines in zip(commands, replies):
                try:
                    results.append(command.parse(lines))
                except _UnexpectedReply:
                    self._drop()  # replies may be out of step from here on
                    raise
                except BlinkError as error:
                    results.append(error)
        if raise_on_error:
            for result in results:
                if isinstance(result, BlinkError):
                    raise result
        return results


class Pipeline(_Commands):
    """Requests queued by its methods and sent together by ``execute()``, or at the end
    of a ``with`` block (in writes of up to 64 KiB, each write's replies read before the
    next); ``results`` then holds one result per call, in order.

    ``execute()`` raises the first BlinkError among the replies (after reading all of
    them); ``execute(raise_on_error=False)`` puts the BlinkError in its place instead.
    """

    def __init__(self, client: BlinkClient):
        self._client = client
        self._commands: List[_Command] = []
        self.results: Optional[List[Any]] = None

    def _add(self, command: _Command) -> "Pipeline":
        self._commands.append(command)
        return self

    def __len__(self) -> int:
        return len(self._commands)

    def execute(self, raise_on_error: bool = True) -> List[Any]:
        commands, self._commands = self._commands, []
        self.results = self._client._run(commands, raise_on_error)
        return self.results

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if exc_type is None:
            self.execute()


def _reason(error: BaseException) -> str:
    if isinstance(error, socket.timeout):
        return "timed out"
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
