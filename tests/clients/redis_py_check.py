#!/usr/bin/env python3
"""Acceptance check with the real redis-py client.

Usage: python3 redis_py_check.py [--keep-going] HOST PORT [UNIX_SOCKET_PATH]

Runs the whole check with redis-py's default settings, with protocol=2 and with
protocol=3, and once more over the Unix socket when one is given. Every check asserts
Redis's documented behaviour. The server is expected to have a single database and to
be used by nobody else while the check runs (it calls FLUSHDB and FLUSHALL).

Exits 1 with a message naming the run and the step on the first failed check (with
--keep-going: after every step has run, listing each failed one); prints one summary
line on success.
"""

import sys
import time
import traceback
import warnings

try:
    import redis
    import redis.utils
except ImportError:
    sys.exit("redis-py is missing: .ci/test installs it (pip install redis in target/pyenv)")


# SETEX, PSETEX and SETNX are commands under test, though redis-py calls them deprecated.
warnings.filterwarnings("ignore", category=DeprecationWarning)


class CheckFailed(Exception):
    pass


CHECKS = [0]


def check(condition, message):
    CHECKS[0] += 1
    if not condition:
        raise CheckFailed(message)


def equal(got, expected, what):
    check(got == expected, f"{what}: expected {expected!r}, got {got!r}")


def between(got, low, high, what):
    check(
        isinstance(got, int) and low <= got <= high,
        f"{what}: expected an integer in [{low}, {high}], got {got!r}",
    )


def as_str(value):
    return value.decode() if isinstance(value, bytes) else value


def error_text(error):
    """The error line as the server sent it (redis-py strips a known prefix)."""
    code = getattr(error, "status_code", None)
    return f"{code} {error}" if code else str(error)


def expect_error(call, expected, what, prefix=False):
    """`call` must fail with the server error `expected` (or one starting with it)."""
    try:
        got = call()
    except redis.ResponseError as error:
        text = error_text(error)
        if prefix:
            check(
                text.startswith(expected),
                f"{what}: expected an error starting {expected!r}, got {text!r}",
            )
        else:
            equal(text, expected, f"{what} error")
        return
    raise CheckFailed(f"{what}: expected the error {expected!r}, got the reply {got!r}")


def raw(client, *args, conn=None):
    """Sends one command and returns the parsed reply without redis-py's callbacks."""
    pool = client.connection_pool
    connection = conn or pool.get_connection()
    try:
        connection.send_command(*args)
        return connection.read_response()
    finally:
        if conn is None:
            pool.release(connection)


def pairs(reply):
    """A RESP2 flat key/value array or a RESP3 map, as a dict with text keys."""
    if isinstance(reply, dict):
        return {as_str(k): v for k, v in reply.items()}
    check(isinstance(reply, list) and len(reply) % 2 == 0, f"expected pairs, got {reply!r}")
    return {as_str(reply[i]): reply[i + 1] for i in range(0, len(reply), 2)}


def version_tuple(text):
    parts = []
    for part in as_str(text).split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def wait_gone(r, key, what, deadline_seconds=5.0):
    deadline = time.monotonic() + deadline_seconds
    while r.exists(key):
        if time.monotonic() > deadline:
            raise CheckFailed(f"{what}: key still there after {deadline_seconds} s")
        time.sleep(0.02)


EVERY_BYTE = bytes(range(256))
SECTIONS = []


def section(name):
    def register(function):
        SECTIONS.append((name, function))
        return function

    return register


@section("PING / ECHO")
def _(r, k, protocol):
    equal(r.ping(), True, "PING")
    equal(raw(r, "PING", "hello there"), b"hello there", "PING msg")
    equal(r.echo("hi"), b"hi", "ECHO")
    equal(r.echo(b""), b"", "ECHO empty")


@section("SELECT")
def _(r, k, protocol):
    equal(r.execute_command("SELECT", 0), True, "SELECT 0")
    expect_error(lambda: r.execute_command("SELECT", 1), "ERR DB index is out of range", "SELECT 1")


@section("FLUSHDB / DBSIZE")
def _(r, k, protocol):
    equal(r.flushdb(), True, "FLUSHDB")
    equal(r.dbsize(), 0, "DBSIZE after FLUSHDB")


@section("SET / GET")
def _(r, k, protocol):
    equal(r.set(k("a"), "1"), True, "SET")
    equal(r.get(k("a")), b"1", "GET")
    equal(r.get(k("missing")), None, "GET missing")
    equal(r.set(k("a"), "2"), True, "SET overwrite")
    equal(r.get(k("a")), b"2", "GET after overwrite")
    equal(r.set(k("empty"), ""), True, "SET empty value")
    equal(r.get(k("empty")), b"", "GET empty value")


@section("SET EX / PX / EXAT / PXAT")
def _(r, k, protocol):
    equal(r.set(k("ex"), "v", ex=100), True, "SET EX")
    between(r.ttl(k("ex")), 98, 100, "TTL after SET EX 100")
    equal(r.set(k("px"), "v", px=100000), True, "SET PX")
    between(r.pttl(k("px")), 90000, 100000, "PTTL after SET PX 100000")
    equal(r.set(k("exat"), "v", exat=int(time.time()) + 200), True, "SET EXAT")
    between(r.ttl(k("exat")), 190, 200, "TTL after SET EXAT now+200")
    equal(r.set(k("pxat"), "v", pxat=int(time.time() * 1000) + 300000), True, "SET PXAT")
    between(r.pttl(k("pxat")), 290000, 300000, "PTTL after SET PXAT now+300000")
    equal(r.set(k("ex"), "plain"), True, "SET without options")
    equal(r.ttl(k("ex")), -1, "SET without KEEPTTL discards the TTL")
    expect_error(lambda: r.set(k("bad"), "v", ex=0), "ERR invalid expire time in 'set' command", "SET EX 0")
    expect_error(lambda: r.execute_command("SET", k("bad"), "v", "EX", "soon"),
                 "ERR value is not an integer or out of range", "SET EX soon")
    expect_error(lambda: r.execute_command("SET", k("bad"), "v", "NX", "XX"), "ERR syntax error", "SET NX XX")
    expect_error(lambda: r.execute_command("SET", k("bad"), "v", "EX", 10, "PX", 100),
                 "ERR syntax error", "SET EX PX")
    equal(r.exists(k("bad")), 0, "failed SETs store nothing")


@section("SET NX / XX / KEEPTTL / GET")
def _(r, k, protocol):
    equal(r.set(k("nx"), "first", nx=True), True, "SET NX on a new key")
    equal(r.set(k("nx"), "second", nx=True), None, "SET NX on an existing key")
    equal(r.get(k("nx")), b"first", "value after refused SET NX")
    equal(r.set(k("xx"), "v", xx=True), None, "SET XX on a missing key")
    equal(r.exists(k("xx")), 0, "refused SET XX stores nothing")
    equal(r.set(k("nx"), "third", xx=True), True, "SET XX on an existing key")
    equal(r.get(k("nx")), b"third", "value after SET XX")
    equal(r.set(k("keep"), "v", ex=100), True, "SET EX before KEEPTTL")
    equal(r.set(k("keep"), "w", keepttl=True), True, "SET KEEPTTL")
    between(r.ttl(k("keep")), 98, 100, "TTL kept by KEEPTTL")
    equal(r.get(k("keep")), b"w", "value after SET KEEPTTL")
    equal(r.set(k("getopt"), "new", get=True), None, "SET GET on a missing key")
    equal(r.set(k("getopt"), "newer", get=True), b"new", "SET GET returns the old value")
    equal(r.get(k("getopt")), b"newer", "SET GET stores the new value")
    equal(r.set(k("getopt"), "ignored", nx=True, get=True), b"newer", "SET NX GET on an existing key")
    equal(r.get(k("getopt")), b"newer", "SET NX GET did not overwrite")
    equal(r.set(k("getopt"), "x", xx=True, get=True, ex=50), b"newer", "SET XX GET EX")
    between(r.ttl(k("getopt")), 48, 50, "TTL after SET XX GET EX 50")


@section("SETEX / PSETEX / SETNX")
def _(r, k, protocol):
    equal(r.setex(k("setex"), 100, "v"), True, "SETEX")
    between(r.ttl(k("setex")), 98, 100, "TTL after SETEX 100")
    equal(r.get(k("setex")), b"v", "GET after SETEX")
    equal(r.psetex(k("psetex"), 100000, "v"), True, "PSETEX")
    between(r.pttl(k("psetex")), 90000, 100000, "PTTL after PSETEX 100000")
    expect_error(lambda: r.setex(k("setex0"), 0, "v"), "ERR invalid expire time in 'setex' command", "SETEX 0")
    equal(r.setnx(k("setnx"), "1"), True, "SETNX on a new key")
    equal(r.setnx(k("setnx"), "2"), False, "SETNX on an existing key")
    equal(r.get(k("setnx")), b"1", "value after refused SETNX")


@section("GETDEL / GETEX")
def _(r, k, protocol):
    r.set(k("gd"), "v")
    equal(r.getdel(k("gd")), b"v", "GETDEL")
    equal(r.exists(k("gd")), 0, "GETDEL deletes")
    equal(r.getdel(k("gd")), None, "GETDEL missing")
    r.set(k("ge"), "v")
    equal(r.getex(k("ge")), b"v", "GETEX without options")
    equal(r.ttl(k("ge")), -1, "GETEX without options leaves no TTL")
    equal(r.getex(k("ge"), ex=100), b"v", "GETEX EX")
    between(r.ttl(k("ge")), 98, 100, "TTL after GETEX EX 100")
    equal(r.getex(k("ge"), px=200000), b"v", "GETEX PX")
    between(r.pttl(k("ge")), 190000, 200000, "PTTL after GETEX PX 200000")
    equal(r.getex(k("ge"), exat=int(time.time()) + 300), b"v", "GETEX EXAT")
    between(r.ttl(k("ge")), 290, 300, "TTL after GETEX EXAT now+300")
    equal(r.getex(k("ge"), pxat=int(time.time() * 1000) + 400000), b"v", "GETEX PXAT")
    between(r.pttl(k("ge")), 390000, 400000, "PTTL after GETEX PXAT now+400000")
    equal(r.getex(k("ge"), persist=True), b"v", "GETEX PERSIST")
    equal(r.ttl(k("ge")), -1, "TTL after GETEX PERSIST")
    equal(r.getex(k("nothing"), ex=10), None, "GETEX missing")


@section("MSET / MGET")
def _(r, k, protocol):
    equal(r.mset({k("m1"): "one", k("m2"): "two", k("m3"): "three"}), True, "MSET")
    equal(r.mget([k("m1"), k("missing"), k("m3"), k("m2")]), [b"one", None, b"three", b"two"], "MGET")
    equal(r.mget(k("m1")), [b"one"], "MGET one key")
    expect_error(lambda: r.execute_command("MSET", k("m1"), "v", k("m2")),
                 "ERR wrong number of arguments for 'mset' command", "MSET odd arguments")


@section("EXISTS / DEL / UNLINK")
def _(r, k, protocol):
    equal(r.exists(k("m1"), k("m1"), k("missing"), k("m2"), k("m1")), 4, "EXISTS counts duplicates")
    equal(r.exists(k("missing")), 0, "EXISTS missing")
    equal(r.delete(k("m1"), k("m2"), k("missing"), k("m1")), 2, "DEL many keys")
    equal(r.exists(k("m1"), k("m2")), 0, "DEL removed the keys")
    r.mset({k("u1"): "1", k("u2"): "2", k("u3"): "3"})
    equal(r.unlink(k("u1"), k("u2"), k("u3"), k("u4")), 3, "UNLINK many keys")
    equal(r.exists(k("u1"), k("u2"), k("u3")), 0, "UNLINK removed the keys")
    equal(r.delete(k("u1")), 0, "DEL missing")


@section("EXPIRE / PEXPIRE / EXPIREAT / TTL / PTTL / PERSIST")
def _(r, k, protocol):
    r.set(k("e"), "v")
    equal(r.ttl(k("e")), -1, "TTL without expiry")
    equal(r.pttl(k("e")), -1, "PTTL without expiry")
    equal(r.ttl(k("missing")), -2, "TTL missing")
    equal(r.pttl(k("missing")), -2, "PTTL missing")
    equal(r.expire(k("e"), 100), True, "EXPIRE")
    between(r.ttl(k("e")), 98, 100, "TTL after EXPIRE 100")
    equal(r.pexpire(k("e"), 50000), True, "PEXPIRE")
    between(r.pttl(k("e")), 40000, 50000, "PTTL after PEXPIRE 50000")
    equal(r.expireat(k("e"), int(time.time()) + 500), True, "EXPIREAT")
    between(r.ttl(k("e")), 490, 500, "TTL after EXPIREAT now+500")
    equal(r.persist(k("e")), True, "PERSIST")
    equal(r.ttl(k("e")), -1, "TTL after PERSIST")
    equal(r.persist(k("e")), False, "PERSIST without a TTL")
    equal(r.persist(k("missing")), False, "PERSIST missing")
    equal(r.expire(k("missing"), 100), False, "EXPIRE missing")
    equal(r.pexpire(k("missing"), 100), False, "PEXPIRE missing")
    equal(r.expireat(k("missing"), int(time.time()) + 100), False, "EXPIREAT missing")
    equal(r.expire(k("e"), -1), True, "EXPIRE with a negative time")
    equal(r.exists(k("e")), 0, "EXPIRE with a negative time deletes the key")
    r.set(k("e2"), "v")
    equal(r.expireat(k("e2"), int(time.time()) - 10), True, "EXPIREAT in the past")
    equal(r.get(k("e2")), None, "EXPIREAT in the past deletes the key")
    expect_error(lambda: r.execute_command("EXPIRE", k("e2"), "soon"),
                 "ERR value is not an integer or out of range", "EXPIRE soon")


@section("a key with a 100 ms TTL disappears")
def _(r, k, protocol):
    expired_before = int(r.info("stats")["expired_keys"])
    equal(r.set(k("short"), "v", px=100), True, "SET PX 100")
    pttl = r.pttl(k("short"))
    check(pttl == -2 or 0 <= pttl <= 100, f"PTTL right after SET PX 100: got {pttl!r}")
    wait_gone(r, k("short"), "SET PX 100")
    equal(r.get(k("short")), None, "GET after the TTL passed")
    equal(r.ttl(k("short")), -2, "TTL after the TTL passed")
    r.setex(k("short2"), 1, "v")
    r.pexpire(k("short2"), 100)
    wait_gone(r, k("short2"), "PEXPIRE 100")
    expired_after = int(r.info("stats")["expired_keys"])
    check(expired_after >= expired_before + 2,
          f"INFO stats expired_keys: expected at least {expired_before + 2}, got {expired_after}")


@section("INCR / DECR / INCRBY / DECRBY")
def _(r, k, protocol):
    equal(r.incr(k("n")), 1, "INCR missing")
    equal(r.incr(k("n")), 2, "INCR")
    equal(r.incrby(k("n"), 40), 42, "INCRBY")
    equal(r.decr(k("n")), 41, "DECR")
    equal(r.decrby(k("n"), 50), -9, "DECRBY")
    equal(r.incrby(k("n"), -1), -10, "INCRBY negative")
    equal(r.get(k("n")), b"-10", "GET after INCR family")
    equal(r.decr(k("n2")), -1, "DECR missing")
    r.set(k("text"), "abc")
    expect_error(lambda: r.incr(k("text")), "ERR value is not an integer or out of range", "INCR on text")
    expect_error(lambda: r.decr(k("text")), "ERR value is not an integer or out of range", "DECR on text")
    r.set(k("float"), "1.5")
    expect_error(lambda: r.incrby(k("float"), 1), "ERR value is not an integer or out of range", "INCRBY on 1.5")
    r.set(k("spaced"), " 1")
    expect_error(lambda: r.incr(k("spaced")), "ERR value is not an integer or out of range", "INCR on ' 1'")
    expect_error(lambda: r.execute_command("INCRBY", k("n"), "x"),
                 "ERR value is not an integer or out of range", "INCRBY x")
    expect_error(lambda: r.execute_command("DECRBY", k("n"), "1.0"),
                 "ERR value is not an integer or out of range", "DECRBY 1.0")
    r.set(k("max"), "9223372036854775807")
    expect_error(lambda: r.incr(k("max")), "ERR increment or decrement would overflow", "INCR at i64::MAX")
    equal(r.get(k("max")), b"9223372036854775807", "value after overflowing INCR")
    r.set(k("min"), "-9223372036854775808")
    expect_error(lambda: r.decr(k("min")), "ERR increment or decrement would overflow", "DECR at i64::MIN")
    expect_error(lambda: r.incrby(k("max"), 1), "ERR increment or decrement would overflow", "INCRBY at i64::MAX")
    r.set(k("ttln"), "5", ex=100)
    equal(r.incr(k("ttln")), 6, "INCR on a key with a TTL")
    between(r.ttl(k("ttln")), 98, 100, "INCR keeps the TTL")


@section("APPEND / STRLEN")
def _(r, k, protocol):
    equal(r.append(k("ap"), "Hello"), 5, "APPEND to a missing key")
    equal(r.append(k("ap"), " World"), 11, "APPEND")
    equal(r.get(k("ap")), b"Hello World", "GET after APPEND")
    equal(r.strlen(k("ap")), 11, "STRLEN")
    equal(r.strlen(k("missing")), 0, "STRLEN missing")
    r.set(k("apttl"), "a", ex=100)
    equal(r.append(k("apttl"), "b"), 2, "APPEND on a key with a TTL")
    between(r.ttl(k("apttl")), 98, 100, "APPEND keeps the TTL")


@section("binary keys and values")
def _(r, k, protocol):
    binary_key = k("bin") + b"\x00\xff\r\n \x01key\x80"
    equal(r.set(binary_key, EVERY_BYTE), True, "SET binary")
    equal(r.get(binary_key), EVERY_BYTE, "GET every byte 0..255")
    equal(r.strlen(binary_key), 256, "STRLEN of every byte")
    equal(r.exists(binary_key), 1, "EXISTS binary key")
    equal(r.append(binary_key, b"\r\n\x00"), 259, "APPEND binary")
    equal(r.get(binary_key), EVERY_BYTE + b"\r\n\x00", "GET after binary APPEND")
    other_key = b"\xfe\xfd\x00 space\tkey"
    equal(r.mset({other_key: EVERY_BYTE[::-1], b"\x00": b"\x00"}), True, "MSET binary")
    equal(r.mget([other_key, b"\x00", binary_key]), [EVERY_BYTE[::-1], b"\x00", EVERY_BYTE + b"\r\n\x00"],
          "MGET binary")
    equal(r.echo(EVERY_BYTE), EVERY_BYTE, "ECHO every byte")
    equal(r.getdel(other_key), EVERY_BYTE[::-1], "GETDEL binary")
    equal(r.delete(binary_key, b"\x00"), 2, "DEL binary keys")
    big = bytes((i * 7919 + 13) % 256 for i in range(1 << 19))
    equal(r.set(k("big"), big), True, "SET 512 KiB")
    check(r.get(k("big")) == big, "GET 512 KiB: value differs")
    equal(r.delete(k("big")), 1, "DEL 512 KiB")


@section("pipeline")
def _(r, k, protocol):
    pipe = r.pipeline(transaction=False)
    n = 200
    for i in range(n):
        pipe.set(k(f"p{i}"), f"value-{i}")
    for i in range(n):
        pipe.get(k(f"p{i}"))
    pipe.mget([k(f"p{i}") for i in range(0, n, 10)])
    pipe.incr(k("pn"))
    pipe.incrby(k("pn"), 9)
    pipe.exists(*[k(f"p{i}") for i in range(n)])
    pipe.expire(k("p0"), 100)
    pipe.ttl(k("p0"))
    pipe.set(k("pbin"), EVERY_BYTE)
    pipe.get(k("pbin"))
    pipe.ping()
    pipe.delete(*[k(f"p{i}") for i in range(n)])
    pipe.get(k("p1"))
    results = pipe.execute()
    equal(len(results), 2 * n + 11, "pipeline reply count")
    equal(results[:n], [True] * n, "pipeline SET replies")
    equal(results[n:2 * n], [f"value-{i}".encode() for i in range(n)], "pipeline GET replies")
    rest = results[2 * n:]
    equal(rest[0], [f"value-{i}".encode() for i in range(0, n, 10)], "pipeline MGET")
    equal(rest[1:3], [1, 10], "pipeline INCR / INCRBY")
    equal(rest[3], n, "pipeline EXISTS")
    equal(rest[4], True, "pipeline EXPIRE")
    between(rest[5], 98, 100, "pipeline TTL")
    equal(rest[6:9], [True, EVERY_BYTE, True], "pipeline binary SET / GET and PING")
    equal(rest[9:], [n, None], "pipeline DEL / GET")
    pipe = r.pipeline(transaction=False)
    pipe.set(k("perr"), "text")
    pipe.incr(k("perr"))
    pipe.get(k("perr"))
    pipe.execute_command("NOSUCHCOMMAND", "x")
    pipe.echo("after")
    results = pipe.execute(raise_on_error=False)
    equal(results[0], True, "pipeline with errors: SET")
    check(isinstance(results[1], redis.ResponseError)
          and error_text(results[1]) == "ERR value is not an integer or out of range",
          f"pipeline with errors: INCR on text gave {results[1]!r}")
    equal(results[2], b"text", "pipeline with errors: GET after the error")
    check(isinstance(results[3], redis.ResponseError)
          and error_text(results[3]).startswith("ERR unknown command 'NOSUCHCOMMAND'"),
          f"pipeline with errors: unknown command gave {results[3]!r}")
    equal(results[4], b"after", "pipeline with errors: ECHO after the errors")


@section("DBSIZE / INFO keyspace")
def _(r, k, protocol):
    equal(r.flushdb(), True, "FLUSHDB")
    info = r.info("keyspace")
    check("db0" not in info, f"INFO keyspace of an empty database has a db0 line: {info!r}")
    r.set(k("d1"), "1")
    r.set(k("d2"), "2", ex=1000)
    r.set(k("d3"), "3", px=2000000)
    r.set(k("d4"), "4")
    equal(r.dbsize(), 4, "DBSIZE")
    info = r.info("keyspace")
    check("db0" in info, f"INFO keyspace has no db0 line: {info!r}")
    db0 = info["db0"]
    check(isinstance(db0, dict), f"INFO keyspace db0 is not keys=..,expires=..: {db0!r}")
    equal(int(db0.get("keys", -1)), 4, "INFO keyspace db0 keys")
    equal(int(db0.get("expires", -1)), 2, "INFO keyspace db0 expires")
    check("avg_ttl" in db0, f"INFO keyspace db0 has no avg_ttl: {db0!r}")


@section("INFO")
def _(r, k, protocol):
    everything = r.info()
    for field in ("redis_version", "connected_clients", "used_memory", "maxmemory",
                  "keyspace_hits", "keyspace_misses", "evicted_keys", "expired_keys"):
        check(field in everything, f"INFO has no {field}")
    server = r.info("server")
    check("redis_version" in server, f"INFO server has no redis_version: {sorted(server)}")
    clients = r.info("clients")
    check(int(clients.get("connected_clients", 0)) >= 1,
          f"INFO clients connected_clients: got {clients.get('connected_clients')!r}")
    memory = r.info("memory")
    for field in ("used_memory", "maxmemory"):
        check(isinstance(memory.get(field), int) and memory[field] >= 0,
              f"INFO memory {field}: got {memory.get(field)!r}")
    stats = r.info("stats")
    for field in ("keyspace_hits", "keyspace_misses", "evicted_keys", "expired_keys"):
        check(isinstance(stats.get(field), int) and stats[field] >= 0,
              f"INFO stats {field}: got {stats.get(field)!r}")
    r.get(k("d1"))
    r.get(k("missing"))
    after = r.info("stats")
    check(after["keyspace_hits"] >= stats["keyspace_hits"] + 1,
          f"keyspace_hits did not grow on a hit: {stats['keyspace_hits']} -> {after['keyspace_hits']}")
    check(after["keyspace_misses"] >= stats["keyspace_misses"] + 1,
          f"keyspace_misses did not grow on a miss: {stats['keyspace_misses']} -> {after['keyspace_misses']}")


@section("CONFIG GET")
def _(r, k, protocol):
    config = {as_str(key): value for key, value in r.config_get("maxmemory").items()}
    check("maxmemory" in config, f"CONFIG GET maxmemory: {config!r}")
    maxmemory = r.info("memory").get("maxmemory")
    equal(int(config["maxmemory"]), maxmemory, "CONFIG GET maxmemory equals INFO memory maxmemory")
    check(isinstance(r.config_get("*"), dict), "CONFIG GET * did not reply with pairs")
    check(isinstance(r.config_get("max*"), dict), "CONFIG GET max* did not reply with pairs")


@section("COMMAND / COMMAND DOCS")
def _(r, k, protocol):
    check(isinstance(r.command(), dict), "COMMAND did not reply with a list of commands")
    docs = raw(r, "COMMAND", "DOCS")
    check(isinstance(docs, (list, dict)), f"COMMAND DOCS replied {docs!r}")
    docs = raw(r, "COMMAND", "DOCS", "get")
    check(isinstance(docs, (list, dict)), f"COMMAND DOCS get replied {docs!r}")


@section("CLIENT")
def _(r, k, protocol):
    pool = r.connection_pool
    conn = pool.get_connection()
    try:
        equal(raw(r, "CLIENT", "GETNAME", conn=conn), None, "CLIENT GETNAME before SETNAME")
        equal(raw(r, "CLIENT", "SETNAME", "checker-1", conn=conn), b"OK", "CLIENT SETNAME")
        equal(raw(r, "CLIENT", "GETNAME", conn=conn), b"checker-1", "CLIENT GETNAME")
        expect_error(lambda: raw(r, "CLIENT", "SETNAME", "with space", conn=conn),
                     "ERR Client names cannot contain spaces, newlines or special characters.",
                     "CLIENT SETNAME with a space")
        first_id = raw(r, "CLIENT", "ID", conn=conn)
        check(isinstance(first_id, int) and first_id > 0, f"CLIENT ID: got {first_id!r}")
        equal(raw(r, "CLIENT", "ID", conn=conn), first_id, "CLIENT ID twice on one connection")
        version = version_tuple(r.info("server")["redis_version"])
        for attr, value in (("LIB-NAME", "checker"), ("LIB-VER", "1.2.3")):
            if version >= (7, 2):
                equal(raw(r, "CLIENT", "SETINFO", attr, value, conn=conn), b"OK", f"CLIENT SETINFO {attr}")
            else:
                # Older servers, which report an older redis_version, lack SETINFO.
                expect_error(lambda: raw(r, "CLIENT", "SETINFO", attr, value, conn=conn),
                             "ERR unknown subcommand", f"CLIENT SETINFO {attr}", prefix=True)
        other = pool.make_connection()
        try:
            other_id = raw(r, "CLIENT", "ID", conn=other)
            check(isinstance(other_id, int) and other_id != first_id,
                  f"CLIENT ID of a second connection: {other_id!r}, first {first_id!r}")
            equal(raw(r, "CLIENT", "GETNAME", conn=other), None, "CLIENT GETNAME is per connection")
        finally:
            other.disconnect()
    finally:
        pool.release(conn)


@section("HELLO")
def _(r, k, protocol):
    pool = r.connection_pool
    conn = pool.get_connection()
    try:
        if protocol == 3:
            hello = pairs(raw(r, "HELLO", "3", conn=conn))
            equal(hello.get("proto"), 3, "HELLO 3 proto")
        else:
            hello = pairs(raw(r, "HELLO", "2", conn=conn))
            equal(hello.get("proto"), 2, "HELLO 2 proto")
        for field in ("server", "version", "id", "mode", "role"):
            check(field in hello, f"HELLO reply has no {field}: {hello!r}")
        expect_error(lambda: raw(r, "HELLO", "4", conn=conn), "NOPROTO", "HELLO 4", prefix=True)
        equal(raw(r, "PING", conn=conn), b"PONG", "PING after HELLO")
    finally:
        pool.release(conn)


@section("client mistakes")
def _(r, k, protocol):
    expect_error(lambda: r.execute_command("GET"), "ERR wrong number of arguments for 'get' command", "GET")
    expect_error(lambda: r.execute_command("GET", "a", "b"),
                 "ERR wrong number of arguments for 'get' command", "GET a b")
    expect_error(lambda: r.execute_command("SET", "a"), "ERR wrong number of arguments for 'set' command", "SET a")
    expect_error(lambda: r.execute_command("DEL"), "ERR wrong number of arguments for 'del' command", "DEL")
    expect_error(lambda: r.execute_command("foo"), "ERR unknown command 'foo', with args beginning with: ", "foo")
    expect_error(lambda: r.execute_command("foo", "bar", "baz"),
                 "ERR unknown command 'foo', with args beginning with: 'bar' 'baz' ", "foo bar baz")
    equal(r.ping(), True, "PING after errors")


@section("QUIT")
def _(r, k, protocol):
    pool = r.connection_pool
    conn = pool.make_connection()
    try:
        equal(raw(r, "QUIT", conn=conn), b"OK", "QUIT")
        try:
            reply = conn.read_response()
        except (redis.ConnectionError, OSError):
            pass
        else:
            raise CheckFailed(f"the connection stayed open after QUIT and sent {reply!r}")
    finally:
        conn.disconnect()
    equal(r.ping(), True, "PING on another connection after QUIT")


@section("FLUSHALL")
def _(r, k, protocol):
    r.mset({k("f1"): "1", k("f2"): "2"})
    equal(r.flushall(), True, "FLUSHALL")
    equal(r.dbsize(), 0, "DBSIZE after FLUSHALL")
    equal(r.get(k("f1")), None, "GET after FLUSHALL")


def run(r, label, protocol, keep_going, failures):
    """Runs every section against `r`; returns early on the first failure unless
    `keep_going`."""

    def k(name):
        return f"rp:{label}:{name}".encode()

    for name, function in SECTIONS:
        try:
            function(r, k, protocol)
        except CheckFailed as failure:
            message = f"redis-py FAILED [{label}] at step '{name}': {failure}"
        except redis.ResponseError as error:  # an error reply where none was expected
            message = f"redis-py FAILED [{label}] at step '{name}': error reply {error_text(error)!r}"
            if not keep_going:
                traceback.print_exc(limit=-3, file=sys.stderr)
        except Exception as error:  # a reply redis-py could not take, a dropped connection
            message = f"redis-py FAILED [{label}] at step '{name}': {type(error).__name__}: {error}"
            if not keep_going:
                traceback.print_exc(limit=-3, file=sys.stderr)
        else:
            continue
        print(message, file=sys.stderr)
        failures.append(message)
        if not keep_going:
            return
        try:
            r.ping()
        except Exception as error:  # noqa: BLE001 - any failure here ends the run
            message = f"redis-py FAILED [{label}]: no usable connection ({error}); rest of the run skipped"
            print(message, file=sys.stderr)
            failures.append(message)
            return


def main():
    args = sys.argv[1:]
    keep_going = "--keep-going" in args
    args = [arg for arg in args if arg != "--keep-going"]
    if len(args) not in (2, 3):
        sys.exit("usage: redis_py_check.py [--keep-going] HOST PORT [UNIX_SOCKET_PATH]")
    host, port = args[0], int(args[1])
    runs = [
        ("default", None, lambda: redis.Redis(host, port)),
        ("resp2", 2, lambda: redis.Redis(host, port, protocol=2)),
        ("resp3", 3, lambda: redis.Redis(host, port, protocol=3)),
    ]
    if len(args) == 3:
        path = args[2]
        runs.append(("unix", None, lambda: redis.Redis(unix_socket_path=path)))
    failures = []
    for label, protocol, connect in runs:
        r = connect()
        try:
            # Unasked, redis-py 8 speaks RESP3 (HELLO 3); earlier versions RESP2.
            effective = protocol or int(getattr(redis.utils, "DEFAULT_RESP_VERSION", 2))
            run(r, label, effective, keep_going, failures)
        finally:
            r.close()
        if failures and not keep_going:
            sys.exit(1)
    if failures:
        print(f"redis-py: {len(failures)} failed steps", file=sys.stderr)
        sys.exit(1)
    names = ", ".join(label for label, _, _ in runs)
    print(f"redis-py {redis.__version__}: all checks passed in {len(runs)} runs ({names}), {CHECKS[0]} checks")


if __name__ == "__main__":
    main()
