#!/usr/bin/env python3
"""Acceptance check of redis-py's transactions, pipelines and SCAN iteration.

Usage: python3 redis_py_transactions_check.py [--keep-going] HOST PORT

Runs every section over RESP2 and over RESP3: `pipeline()` (MULTI/EXEC),
`pipeline(transaction=False)`, WATCH through `transaction(func, *watches)` with a
conflicting write from a second client that makes the function run again, and
`scan_iter(match=..., count=...)`. The server is expected to have a single database and
to be used by nobody else while the check runs (it calls FLUSHDB).

Exits 1 with a message naming the run and the step on the first failed check (with
--keep-going: after every step has run); prints one summary line on success.
"""

import fnmatch
import sys

try:
    import redis
    from redis.exceptions import ResponseError, WatchError
except ImportError:
    sys.exit("redis-py is missing: .ci/test installs it (pip install redis in target/pyenv)")

from checks import Sections, check, equal, between, error_text, expect_raises

SECTIONS = Sections("redis-py transactions")
section = SECTIONS.section


@section("pipeline() sends MULTI/EXEC and gets every reply")
def _(r, other, k):
    equal(r.flushdb(), True, "FLUSHDB")
    pipe = r.pipeline()
    pipe.set(k("a"), "1")
    pipe.incr(k("a"))
    pipe.incrby(k("a"), 40)
    pipe.get(k("a"))
    pipe.mset({k("b"): "two", k("c"): "three"})
    pipe.mget([k("b"), k("missing"), k("c")])
    pipe.expire(k("b"), 100)
    pipe.ttl(k("b"))
    pipe.delete(k("c"), k("missing"))
    pipe.exists(k("a"), k("b"), k("c"))
    results = pipe.execute()
    equal(results[:6], [True, 2, 42, b"42", True, [b"two", None, b"three"]], "MULTI/EXEC replies")
    equal(results[6], True, "EXPIRE in MULTI")
    between(results[7], 98, 100, "TTL in MULTI")
    equal(results[8:], [1, 2], "DEL and EXISTS in MULTI")
    equal(r.pipeline().execute(), [], "an empty transaction")


@section("a failing command inside MULTI/EXEC does not stop the others")
def _(r, other, k):
    pipe = r.pipeline()
    pipe.set(k("text"), "abc")
    pipe.incr(k("text"))
    pipe.append(k("text"), "def")
    results = pipe.execute(raise_on_error=False)
    equal(results[0], True, "SET before the failing INCR")
    check(
        isinstance(results[1], ResponseError)
        and error_text(results[1]) == "ERR value is not an integer or out of range",
        f"INCR on text inside EXEC: {results[1]!r}",
    )
    equal(results[2], 6, "APPEND after the failing INCR")
    equal(r.get(k("text")), b"abcdef", "the transaction's writes")
    pipe = r.pipeline()
    pipe.set(k("text"), "x")
    pipe.incr(k("text"))
    expect_raises(pipe.execute, ResponseError, "value is not an integer or out of range",
                  "execute() raises the error of a failed command")
    equal(r.get(k("text")), b"x", "the other commands ran")


@section("a command refused while queued discards the whole transaction")
def _(r, other, k):
    r.set(k("kept"), "before")
    pipe = r.pipeline()
    pipe.set(k("kept"), "after")
    pipe.execute_command("SET", k("kept"))
    pipe.incr(k("counter"))
    expect_raises(pipe.execute, ResponseError, "wrong number of arguments for 'set' command",
                  "execute() of a transaction with a wrong arity")
    equal(r.get(k("kept")), b"before", "nothing of the discarded transaction ran")
    equal(r.exists(k("counter")), 0, "INCR of the discarded transaction")
    equal(r.ping(), True, "the connection is usable after EXECABORT")


@section("pipeline(transaction=False) sends the commands as they are")
def _(r, other, k):
    pipe = r.pipeline(transaction=False)
    pipe.set(k("p1"), "1")
    pipe.execute_command("SET", k("p2"))
    pipe.set(k("p3"), "3")
    pipe.get(k("p1"))
    results = pipe.execute(raise_on_error=False)
    equal(results[0], True, "SET before a wrong arity")
    check(
        isinstance(results[1], ResponseError)
        and error_text(results[1]) == "ERR wrong number of arguments for 'set' command",
        f"a wrong arity in a plain pipeline gets its own error: {results[1]!r}",
    )
    equal(results[2:], [True, b"1"], "the commands after it ran")
    pipe = r.pipeline(transaction=False)
    n = 300
    for i in range(n):
        pipe.set(k(f"many{i}"), i)
    for i in range(n):
        pipe.incr(k(f"many{i}"))
    results = pipe.execute()
    equal(results, [True] * n + [i + 1 for i in range(n)], "300 SETs then 300 INCRs")


@section("transaction(func, key) runs func again after a conflicting write")
def _(r, other, k):
    key = k("balance")
    r.set(key, 10)
    calls = []

    def deposit(pipe):
        calls.append(1)
        current = int(pipe.get(key))
        if len(calls) == 1:
            # Another client writes the watched key between WATCH and EXEC.
            other.incrby(key, 100)
        pipe.multi()
        pipe.set(key, current + 5)
        pipe.get(key)

    result = r.transaction(deposit, key)
    equal(len(calls), 2, "deposit() runs once more after the conflict")
    equal(result, [True, b"115"], "the retried transaction's replies")
    equal(r.get(key), b"115", "the conflicting write is not lost")

    def untouched(pipe):
        pipe.multi()
        pipe.incr(key)

    equal(r.transaction(untouched, key, value_from_callable=False), [116], "no conflict, one run")
    equal(
        r.transaction(lambda pipe: pipe.get(key).decode(), key, value_from_callable=True),
        "116",
        "value_from_callable returns what func returned",
    )


@section("WATCH, UNWATCH and EXEC by hand")
def _(r, other, k):
    key = k("watched")
    r.set(key, "v0")
    with r.pipeline() as pipe:
        pipe.watch(key)
        other.set(key, "by another client")
        pipe.multi()
        pipe.set(key, "mine")
        expect_raises(pipe.execute, WatchError, "", "EXEC after another client wrote the key")
    equal(r.get(key), b"by another client", "the aborted transaction wrote nothing")
    with r.pipeline() as pipe:
        pipe.watch(k("absent"))
        other.set(k("absent"), "created")
        pipe.multi()
        pipe.set(k("absent"), "mine")
        expect_raises(pipe.execute, WatchError, "", "EXEC after another client created the key")
    with r.pipeline() as pipe:
        pipe.watch(key)
        pipe.set(key, "same client")
        pipe.multi()
        pipe.set(key, "mine")
        expect_raises(pipe.execute, WatchError, "", "EXEC after the watching client wrote the key")
    with r.pipeline() as pipe:
        pipe.watch(key)
        pipe.unwatch()
        other.set(key, "after UNWATCH")
        pipe.multi()
        pipe.set(key, "mine")
        equal(pipe.execute(), [True], "EXEC after UNWATCH")
    equal(r.get(key), b"mine", "the transaction after UNWATCH wrote")
    with r.pipeline() as pipe:
        pipe.watch(key, k("other"))
        other.get(key)
        other.set(k("unwatched"), "x")
        pipe.multi()
        pipe.get(key)
        equal(pipe.execute(), [b"mine"], "reads and writes of other keys do not abort")


@section("scan_iter(match=..., count=...) returns every key")
def _(r, other, k):
    equal(r.flushdb(), True, "FLUSHDB")
    wanted = {k(f"scan:{i}") for i in range(600)}
    others = {k(f"other:{i}") for i in range(60)}
    pipe = r.pipeline(transaction=False)
    for key in wanted | others:
        pipe.set(key, "v")
    pipe.execute()
    # SCAN may return a key more than once: the sets are compared.
    equal(set(r.scan_iter(match=k("scan:*"), count=37)), wanted, "scan_iter(match, count=37)")
    pattern = k("scan:1?")
    expected = {key for key in wanted if fnmatch.fnmatchcase(key.decode(), pattern.decode())}
    equal(set(r.scan_iter(match=pattern, count=5)), expected, "scan_iter(match='scan:1?')")
    equal(set(r.scan_iter(count=100)), wanted | others, "scan_iter(count=100) without a pattern")
    equal(set(r.scan_iter(match=k("nothing:*"))), set(), "scan_iter with a pattern nothing matches")
    cursor, batch = r.scan(0, match=k("scan:*"), count=1000000)
    equal((cursor, set(batch)), (0, wanted), "one SCAN with a large COUNT")


def runs(host, port):
    def connect(protocol):
        def make():
            r = redis.Redis(host, port, protocol=protocol)
            other = redis.Redis(host, port, protocol=protocol)
            return r, other, lambda name: f"tx:{protocol}:{name}".encode()

        return make

    return [("resp2", connect(2)), ("resp3", connect(3))]


if __name__ == "__main__":
    SECTIONS.main(
        "redis_py_transactions_check.py [--keep-going] HOST PORT", runs, redis.__version__
    )
