#!/usr/bin/env python3
"""Checks blink_client.py against a running Blink Store server.

Usage: python3 test_client.py HOST PORT UNIX_SOCKET_PATH

Runs every check over TCP and again over the Unix socket, then the failure cases.
Exits 1 naming the first failed check; prints "all checks passed" on success.
"""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from blink_client import (  # noqa: E402
    BlinkClient,
    BlinkConnectionError,
    BlinkError,
    parse_address,
)

CHECKS = [0]


class CheckFailed(Exception):
    pass


def check(condition, message):
    CHECKS[0] += 1
    if not condition:
        raise CheckFailed(message)


def equal(got, expected, what):
    check(got == expected, f"{what}: expected {expected!r}, got {got!r}")


def raises(error_type, call, what, message_start=None):
    """`call()` must raise `error_type`; returns the error."""
    try:
        got = call()
    except error_type as error:
        if message_start is not None:
            check(
                str(error).startswith(message_start),
                f"{what}: expected a message starting {message_start!r}, got {str(error)!r}",
            )
        CHECKS[0] += 1
        return error
    raise CheckFailed(f"{what}: expected {error_type.__name__}, got {got!r}")


def wait_until(condition, what, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise CheckFailed(f"{what}: still not true after {seconds} s")
        time.sleep(0.05)
    CHECKS[0] += 1


def basics(c, p):
    equal(c.ping(), True, "ping")
    equal(c.set(p + "greeting", "hello world"), True, "set a str")
    equal(c.get(p + "greeting"), b"hello world", "get returns bytes")
    equal(c.get_str(p + "greeting"), "hello world", "get_str")
    equal(c.get(p + "missing"), None, "get of a missing key")
    equal(c.get_str(p + "missing"), None, "get_str of a missing key")
    equal(c.set((p + "bytes-key").encode(), b"v"), True, "set with a bytes key")
    equal(c.get(p + "bytes-key"), b"v", "bytes and str keys are the same key")
    equal(c.set(p + "caf\u00e9", "cr\u00e8me br\u00fbl\u00e9e"), True, "set a UTF-8 key and value")
    equal(c.get_str(p + "caf\u00e9"), "cr\u00e8me br\u00fbl\u00e9e", "UTF-8 round trip")
    equal(c.set(p + "empty", b""), True, "set an empty value")
    equal(c.get(p + "empty"), b"", "an empty value is not a missing one")
    equal(c.set(p + "spaces", b"  two  spaces  "), True, "set a value with spaces")
    equal(c.get(p + "spaces"), b"  two  spaces  ", "spaces are kept")
    equal(c.delete(p + "greeting"), True, "delete an existing key")
    equal(c.delete(p + "greeting"), False, "delete a missing key")
    equal(c.get(p + "greeting"), None, "deleted")

    before = c.usage()
    check(isinstance(before, int) and before >= 0, f"usage is an int: {before!r}")
    c.set(p + "usage", b"x" * 100)
    equal(c.usage() - before, len(p + "usage") + 100, "usage grows by key and value")
    c.delete(p + "usage")
    equal(c.usage(), before, "usage shrinks back")

    info = c.info()
    for name in ("keys", "used_bytes", "limit", "hits", "misses", "connections", "uptime"):
        check(isinstance(info.get(name), int), f"info has an int {name}: {info!r}")
    check(info["keys"] >= 1, f"info counts keys: {info!r}")


def binary_values(c, p):
    every_byte = bytes(b for b in range(256) if b != 0x0A)
    equal(c.set(p + "binary", every_byte), True, "set every byte but LF")
    equal(c.get(p + "binary"), every_byte, "every byte but LF round-trips")
    equal(c.set(p + "cr", b"a\rb"), True, "a CR inside a value")
    equal(c.get(p + "cr"), b"a\rb", "a CR inside a value round-trips")
    big = bytes(range(11, 256)) * 4000
    equal(c.set(p + "big", big), True, "set a 1 MB value")
    equal(c.get(p + "big"), big, "a 1 MB value round-trips")
    c.delete(p + "big")

    raises(ValueError, lambda: c.set(p + "lf", b"line one\nline two"), "a value with LF")
    raises(ValueError, lambda: c.set(p + "lf", "ends with LF\n"), "a str value with LF")
    raises(ValueError, lambda: c.set(p + "crend", b"ends with CR\r"), "a value ending in CR")
    equal(c.get(p + "lf"), None, "a refused value was never sent")
    for bad in ("", "with space", "tab\there", "nul\x00", "del\x7f", "new\nline"):
        raises(ValueError, lambda: c.get(p + bad if bad else bad), f"key {bad!r}")
        raises(ValueError, lambda: c.set(p + bad if bad else bad, "v"), f"set key {bad!r}")
    raises(TypeError, lambda: c.set(p + "k", 42), "an int value")
    raises(TypeError, lambda: c.get(42), "an int key")
    raises(TypeError, lambda: c.expire(p + "k", "10"), "seconds as str")
    equal(c.ping(), True, "the connection is fine after refusals")


def errors(c, p):
    error = raises(BlinkError, lambda: c.get("k" * 2000), "a key over the server's limit")
    check(not isinstance(error, BlinkConnectionError), "a server error is not a connection error")
    check("key too long" in str(error), f"the server's text is the message: {error}")
    raises(BlinkError, lambda: c.set(p + "huge", b"x" * (1024 * 1024 + 1)), "a value too large")
    equal(c.ping(), True, "the connection keeps working after ERROR")


def ttls(c, p):
    k = p + "ttl"
    c.set(k, "v")
    equal(c.ttl(k), -1, "no expiry")
    equal(c.expire(k, 100), True, "expire")
    ttl = c.ttl(k)
    check(isinstance(ttl, int) and 98 <= ttl <= 100, f"ttl after expire 100: {ttl!r}")
    equal(c.persist(k), True, "persist")
    equal(c.ttl(k), -1, "persist removes the expiry")
    equal(c.ttl(p + "missing"), None, "ttl of a missing key")
    equal(c.expire(p + "missing", 10), False, "expire of a missing key")
    equal(c.persist(p + "missing"), False, "persist of a missing key")
    c.expire(k, 50)
    c.set(k, "again")
    equal(c.ttl(k), -1, "a plain set clears the expiry")
    equal(c.set(k, "v", ttl=30), True, "set with ttl")
    ttl = c.ttl(k)
    check(isinstance(ttl, int) and 28 <= ttl <= 30, f"ttl after set ttl=30: {ttl!r}")
    equal(c.expire(k, 0), True, "expire 0")
    equal(c.get(k), None, "expire 0 deletes")
    c.set(k, "v")
    equal(c.expire(k, -5), True, "negative expire")
    equal(c.get(k), None, "negative expire deletes")
    c.set(k, "short-lived", ttl=1)
    equal(c.get(k), b"short-lived", "readable before it expires")
    wait_until(lambda: c.get(k) is None, "a key with ttl=1 expires")
    equal(c.ttl(k), None, "an expired key is missing")


def pipelines(c, p):
    with c.pipeline() as pipe:
        pipe.set(p + "pa", b"1")
        pipe.set(p + "pb", "two", ttl=60)
        pipe.get(p + "pa")
        pipe.get_str(p + "pb")
        pipe.get(p + "missing")
        pipe.ttl(p + "pb")
        pipe.delete(p + "pa")
        pipe.delete(p + "pa")
        pipe.ping()
        pipe.usage()
        pipe.info()
    results = pipe.results
    equal(len(results), 11, "one result per call")
    equal(results[:9], [True, True, b"1", "two", None, 60, True, False, True], "pipeline results")
    check(isinstance(results[9], int), "usage in a pipeline")
    check(isinstance(results[10], dict), "info in a pipeline")

    pipe = c.pipeline().set(p + "chain", "x").get(p + "chain")
    equal(len(pipe), 2, "calls chain")
    equal(pipe.execute(), [True, b"x"], "execute returns the results")
    equal(pipe.execute(), [], "a pipeline is empty after execute")

    pipe = c.pipeline()
    pipe.set(p + "before", "1")
    pipe.get("k" * 2000)
    pipe.get(p + "before")
    raises(BlinkError, pipe.execute, "an ERROR inside a pipeline raises")
    equal(c.get(p + "before"), b"1", "commands around the error ran")
    pipe.set(p + "before", "2")
    pipe.get("k" * 2000)
    pipe.get(p + "before")
    results = pipe.execute(raise_on_error=False)
    equal(results[0], True, "first result")
    check(isinstance(results[1], BlinkError), f"the error in its place: {results[1]!r}")
    equal(results[2], b"2", "the reply after the error")

    many = c.pipeline()
    for i in range(1000):
        many.set(f"{p}many:{i}", str(i))
    for i in range(1000):
        many.get_str(f"{p}many:{i}")
    results = many.execute()
    equal(results[1000:], [str(i) for i in range(1000)], "1000 pipelined GETs in order")

    # Megabytes each way: requests are not all written before replies are read.
    chunk = bytes(range(11, 256)) * 80
    big = c.pipeline()
    for i in range(200):
        big.set(f"{p}big:{i}", chunk)
        big.get(f"{p}big:{i}")
    results = big.execute()
    equal(results[1::2], [chunk] * 200, "a pipeline of 4 MB each way")
    for i in range(200):
        big.delete(f"{p}big:{i}")
    big.execute()

    try:
        with c.pipeline() as pipe:
            pipe.set(p + "aborted", "x")
            raise KeyError("boom")
    except KeyError:
        pass
    equal(c.get(p + "aborted"), None, "a with block that raises sends nothing")


def reconnects(c, p):
    c.set(p + "r", "kept")
    c._sock.sendall(b"QUIT\n")  # the server closes this connection
    equal(c.get(p + "r"), b"kept", "a request after the server closed the connection")
    c._sock.sendall(b"QUIT\n")
    with c.pipeline() as pipe:
        pipe.get(p + "r")
        pipe.ping()
    equal(pipe.results, [b"kept", True], "a pipeline after the server closed the connection")
    c.close()
    equal(c.get(p + "r"), b"kept", "a request after close() reconnects")


def threads(c, p):
    failures = []

    def worker(n):
        try:
            for i in range(50):
                key = f"{p}thread:{n}:{i}"
                c.set(key, str(i))
                if c.get_str(key) != str(i):
                    failures.append(key)
        except Exception as error:  # reported below
            failures.append(repr(error))

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    equal(failures, [], "four threads sharing one client")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def failures():
    port = free_port()
    c = BlinkClient("127.0.0.1", port, timeout=2)
    raises(
        BlinkConnectionError,
        c.ping,
        "a closed port",
        f"cannot connect to Blink Store at 127.0.0.1:{port}: ",
    )
    raises(BlinkConnectionError, c.connect, "connect() to a closed port")
    missing = "/nonexistent/blink.sock"
    raises(
        BlinkConnectionError,
        BlinkClient(unix_socket=missing).ping,
        "a missing Unix socket",
        f"cannot connect to Blink Store at {missing}: ",
    )
    check(issubclass(BlinkConnectionError, BlinkError), "connection errors are BlinkErrors")

    # A server that takes one connection, then goes away altogether: the client
    # reconnects once, then says it cannot connect.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    accepted = []

    def accept_then_vanish():
        conn, _ = listener.accept()
        conn.recv(100)
        conn.sendall(b"PONG\n")
        accepted.append(conn)

    t = threading.Thread(target=accept_then_vanish)
    t.start()
    c = BlinkClient("127.0.0.1", port, timeout=5)
    equal(c.ping(), True, "the stand-in server answers once")
    t.join()
    listener.close()
    accepted[0].close()
    raises(
        BlinkConnectionError,
        c.ping,
        "the server went away",
        f"cannot connect to Blink Store at 127.0.0.1:{port}: ",
    )

    # A server that accepts and never answers: a timeout, not a hang.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    c = BlinkClient("127.0.0.1", listener.getsockname()[1], timeout=0.3)
    raises(BlinkConnectionError, c.ping, "a silent server", "no reply from Blink Store at ")
    listener.close()

    equal(parse_address("10.0.0.1:7000"), ("10.0.0.1", 7000), "parse host:port")
    equal(parse_address("[::1]:7000"), ("::1", 7000), "parse [v6]:port")
    raises(ValueError, lambda: parse_address("localhost"), "an address without a port")


def from_env(host, port, path):
    saved = {k: os.environ.pop(k, None) for k in ("BLINK_ADDR", "BLINK_SOCKET")}
    try:
        equal(BlinkClient.from_env().address, "127.0.0.1:8765", "the default address")
        os.environ["BLINK_ADDR"] = f"{host}:{port}"
        c = BlinkClient.from_env()
        equal((c.host, c.port, c.unix_socket), (host, int(port), None), "BLINK_ADDR")
        equal(c.ping(), True, "ping via BLINK_ADDR")
        c.close()
        os.environ["BLINK_SOCKET"] = path
        c = BlinkClient.from_env()
        equal(c.unix_socket, path, "BLINK_SOCKET wins over BLINK_ADDR")
        equal(c.ping(), True, "ping via BLINK_SOCKET")
        c.close()
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None)
            if v is not None:
                os.environ[k] = v


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    host, port, path = sys.argv[1:]
    step = "start"
    try:
        for transport, make in (
            ("tcp", lambda: BlinkClient(host, int(port))),
            ("unix", lambda: BlinkClient(unix_socket=path)),
        ):
            with make() as c:
                for check_group in (
                    basics,
                    binary_values,
                    errors,
                    ttls,
                    pipelines,
                    reconnects,
                    threads,
                ):
                    step = f"{transport}: {check_group.__name__}"
                    check_group(c, f"py:{transport}:")
        step = "failures"
        failures()
        step = "from_env"
        from_env(host, port, path)
    except (CheckFailed, Exception) as error:
        print(f"FAILED in {step}: {type(error).__name__}: {error}", file=sys.stderr)
        raise SystemExit(1) from error
    print(f"all checks passed ({CHECKS[0]} checks)")


if __name__ == "__main__":
    main()
