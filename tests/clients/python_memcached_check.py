#!/usr/bin/env python3
"""Acceptance check with the real python-memcached client (module `memcache`), through
its ordinary API.

Usage: python3 python_memcached_check.py [--keep-going] HOST PORT [UNIX_SOCKET_PATH]

Runs every section over TCP, and once more over the Unix socket when one is given.
Every check asserts memcached's documented behaviour (doc/protocol.txt), so the script
passes against a real memcached. The server is expected to be used by nobody else while
the check runs (it calls flush_all).

python-memcached reports a server's refusal as a false return value, and a broken
connection the same way (it marks the server dead): each section therefore starts by
checking that the server answers. Exits 1 with a message naming the run and the step on
the first failed check (with --keep-going: after every step has run, listing each
failed one); prints one summary line on success.
"""

import sys

from checks import CheckFailed, Sections, check, equal

try:
    import memcache
except ImportError:
    sys.exit(
        "python-memcached is missing: .ci/test installs it "
        "(pip install python-memcached in target/pyenv)"
    )


SECTIONS = Sections("python-memcached")


def section(name):
    """A section that first checks the client still has a live server, so a dropped
    connection fails as that rather than as a wrong value."""

    def register(function):
        def checked(mc, other):
            stats = mc.get_stats()
            check(len(stats) == 1, f"before '{name}': the server does not answer stats")
            function(mc, other)

        return SECTIONS.section(name)(checked)

    return register


AWKWARD = b"\x00a\r\nEND\r\nVALUE x 0 1\r\n\xff\xfe\x80 \t\n"


@section("flush_all empties the server")
def _(mc, other):
    check(mc.set("before-flush", b"x"), "set() before flush_all()")
    mc.flush_all()
    equal(mc.get("before-flush"), None, "get() after flush_all()")


@section("set and get")
def _(mc, other):
    equal(mc.get("missing"), None, "get() of a missing key")
    equal(mc.set("greeting", "hello"), True, "set()")
    equal(mc.get("greeting"), "hello", "get() after set()")
    equal(mc.set("greeting", "hello again"), True, "set() over an existing key")
    equal(mc.get("greeting"), "hello again", "get() after the second set()")
    equal(mc.set("empty", b""), True, "set() of an empty value")
    equal(mc.get("empty"), b"", "get() of an empty value")


@section("binary-safe values")
def _(mc, other):
    equal(mc.set("awkward", AWKWARD), True, "set() of framing bytes")
    equal(mc.get("awkward"), AWKWARD, "get() of framing bytes")
    every_byte = bytes(range(256)) * 4
    equal(mc.set("every-byte", every_byte), True, "set() of every byte value")
    equal(mc.get("every-byte"), every_byte, "get() of every byte value")
    big = bytes((i * 11 + 5) % 256 for i in range(256 * 1024))
    equal(mc.set("big", big), True, "set() of a 256 KiB value")
    check(mc.get("big") == big, "get() of a 256 KiB value differs from what was set")


@section("flags round-trip: ints, text and pickles")
def _(mc, other):
    equal(mc.set("int", 42), True, "set() of an int")
    got = mc.get("int")
    check(type(got) is int and got == 42, f"get() of an int: expected 42 (int), got {got!r}")
    document = {"name": "blink", "tags": ["cache", "kv"], "nested": {"ok": True}}
    equal(mc.set("dict", document), True, "set() of a dict")
    equal(mc.get("dict"), document, "get() of a dict")
    equal(mc.set("text", "naïve"), True, "set() of a str")
    equal(mc.get("text"), "naïve", "get() of a str")
    equal(mc.set("bytes", b"raw"), True, "set() of bytes")
    got = mc.get("bytes")
    check(type(got) is bytes and got == b"raw", f"get() of bytes: {got!r}")


@section("get_multi and set_multi")
def _(mc, other):
    data = {"m1": 1, "m2": "two", "m3": [3], "m4": {"four": 4}}
    equal(mc.set_multi(data), [], "set_multi() reports no failed keys")
    equal(mc.get_multi(["m1", "m2", "m3", "m4", "nope"]), data, "get_multi()")
    equal(mc.get_multi([]), {}, "get_multi() of no keys")
    equal(mc.set_multi({"a": 1, "b": 2}, key_prefix="pre:"), [], "set_multi() with a prefix")
    equal(mc.get("pre:a"), 1, "get() of a prefixed key")
    equal(mc.get_multi(["a", "b"], key_prefix="pre:"), {"a": 1, "b": 2}, "get_multi() prefixed")
    many = {f"many:{i}": f"value {i}".encode() for i in range(200)}
    equal(mc.set_multi(many), [], "set_multi() of 200 keys")
    equal(mc.get_multi(list(many)), many, "get_multi() of 200 keys")


@section("add and replace")
def _(mc, other):
    mc.set("present", "first")
    equal(mc.add("present", "second"), False, "add() of an existing key")
    equal(mc.get("present"), "first", "the value add() left alone")
    equal(mc.add("fresh", "added"), True, "add() of a new key")
    equal(mc.get("fresh"), "added", "get() after add()")
    equal(mc.replace("absent", "x"), False, "replace() of a missing key")
    equal(mc.get("absent"), None, "replace() of a missing key stores nothing")
    equal(mc.replace("present", "replaced"), True, "replace() of an existing key")
    equal(mc.get("present"), "replaced", "get() after replace()")


@section("append and prepend")
def _(mc, other):
    mc.set("list", b"middle")
    equal(mc.append("list", b"+end"), True, "append()")
    equal(mc.prepend("list", b"start+"), True, "prepend()")
    equal(mc.get("list"), b"start+middle+end", "get() after append() and prepend()")
    equal(mc.append("no-list", b"x"), False, "append() to a missing key")
    equal(mc.prepend("no-list", b"x"), False, "prepend() to a missing key")
    equal(mc.get("no-list"), None, "append() and prepend() create nothing")


@section("gets and cas")
def _(mc, other):
    mc.set("versioned", "v1")
    equal(mc.gets("versioned"), "v1", "gets()")
    equal(mc.cas("versioned", "v2"), True, "cas() after gets()")
    equal(mc.get("versioned"), "v2", "get() after cas()")
    # A conflicting write from another client between gets and cas.
    equal(mc.gets("versioned"), "v2", "gets() again")
    equal(other.set("versioned", "theirs"), True, "set() from another client")
    equal(mc.cas("versioned", "mine"), False, "cas() after a concurrent set()")
    equal(mc.get("versioned"), "theirs", "the concurrent value survives")
    equal(mc.gets("versioned"), "theirs", "gets() of the new value")
    equal(mc.cas("versioned", "mine"), True, "cas() with the fresh token")
    equal(other.get("versioned"), "mine", "the other client sees cas()'s value")
    # A cas token kept across a delete and a re-add no longer matches.
    equal(mc.gets("versioned"), "mine", "gets() before the delete")
    other.delete("versioned")
    equal(mc.cas("versioned", "late"), False, "cas() of a deleted key")
    equal(mc.get("versioned"), None, "cas() of a deleted key stores nothing")


@section("incr and decr")
def _(mc, other):
    mc.set("counter", b"10")
    equal(mc.incr("counter"), 11, "incr()")
    equal(mc.incr("counter", 5), 16, "incr(5)")
    equal(mc.decr("counter", 6), 10, "decr(6)")
    equal(mc.decr("counter", 100), 0, "decr() below zero stops at 0")
    # memcached may leave a shrunk number space-padded to its old length (protocol.txt).
    equal(mc.get("counter").rstrip(b" "), b"0", "the counter's stored digits")
    equal(mc.incr("no-counter"), None, "incr() of a missing key")
    equal(mc.decr("no-counter"), None, "decr() of a missing key")
    mc.set("word", b"abc")
    try:
        got = mc.incr("word")
        raise CheckFailed(f"incr() of a non-number: expected an error, got {got!r}")
    except ValueError as error:
        check("non-numeric" in str(error), f"incr() of a non-number: {error}")
    equal(mc.get("greeting"), "hello again", "the connection works after the error")


@section("touch")
def _(mc, other):
    equal(mc.touch("missing", 100), 0, "touch() of a missing key")
    mc.set("lasting", "v", time=100)
    equal(mc.touch("lasting", 0), 1, "touch(0): never expire")
    equal(mc.get("lasting"), "v", "get() after touch()")
    # A negative expiry time expires the item at once (protocol.txt).
    equal(mc.touch("lasting", -1), 1, "touch(-1)")
    equal(mc.get("lasting"), None, "get() after touch(-1)")


@section("delete")
def _(mc, other):
    mc.set("doomed", "v")
    equal(mc.delete("doomed"), 1, "delete() of an existing key")
    equal(mc.get("doomed"), None, "get() after delete()")
    equal(mc.delete("doomed"), 0, "delete() of a missing key")
    mc.set_multi({"d1": 1, "d2": 2})
    equal(mc.delete_multi(["d1", "d2"]), 1, "delete_multi()")
    equal(mc.get_multi(["d1", "d2"]), {}, "get_multi() after delete_multi()")


@section("flush_all")
def _(mc, other):
    mc.set("left", "over")
    mc.flush_all()
    equal(mc.get("left"), None, "get() after flush_all()")
    equal(mc.get_multi(["greeting", "dict", "counter"]), {}, "get_multi() after flush_all()")


def clients(server):
    def make():
        # dead_retry=0: a dropped connection is retried at once, so one failure shows
        # as itself instead of turning every later call into a miss.
        return (
            memcache.Client([server], cache_cas=True, dead_retry=0),
            memcache.Client([server], dead_retry=0),
        )

    return make


def runs(host, port, unix=None):
    found = [("tcp", clients(f"{host}:{port}"))]
    if unix is not None:
        found.append(("unix", clients(f"unix:{unix}")))
    return found


if __name__ == "__main__":
    SECTIONS.main(
        "python_memcached_check.py [--keep-going] HOST PORT [UNIX_SOCKET_PATH]",
        runs,
        memcache.__version__,
        optional=1,
    )
