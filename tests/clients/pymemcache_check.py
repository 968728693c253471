#!/usr/bin/env python3
"""Acceptance check with the real pymemcache client, through its ordinary API.

Usage: python3 pymemcache_check.py [--keep-going] HOST PORT [UNIX_SOCKET_PATH]

Runs every section over TCP, and once more over the Unix socket when one is given.
Every check asserts memcached's documented behaviour (doc/protocol.txt), so the script
passes against a real memcached. The server is expected to be used by nobody else while
the check runs (it calls flush_all).

Exits 1 with a message naming the run and the step on the first failed check (with
--keep-going: after every step has run, listing each failed one); prints one summary
line on success.
"""

import sys

from checks import CheckFailed, Sections, check, equal, wait_until

try:
    import pymemcache
    from pymemcache import serde
    from pymemcache.client.base import Client
    from pymemcache.exceptions import MemcacheClientError
except ImportError:
    sys.exit("pymemcache is missing: .ci/test installs it (pip install pymemcache in target/pyenv)")


SECTIONS = Sections("pymemcache")
section = SECTIONS.section

# Bytes a text protocol could mistake for its own framing: NUL, a line end, a whole
# END line, and bytes that are not UTF-8.
AWKWARD = b"\x00a\r\nEND\r\nVALUE x 0 1\r\n\xff\xfe\x80 \t\n"


class FlagsSerde:
    """Stores bytes with the flags it is handed and returns both, so a check can see
    the flags the server kept."""

    def serialize(self, key, value):
        data, flags = value
        return data, flags

    def deserialize(self, key, value, flags):
        return value, flags


@section("flush_all empties the server")
def _(mc, raw, other):
    equal(mc.set("before-flush", b"x"), True, "set() before flush_all()")
    equal(mc.flush_all(), True, "flush_all()")
    equal(mc.get("before-flush"), None, "get() after flush_all()")


@section("set and get")
def _(mc, raw, other):
    equal(mc.get("missing"), None, "get() of a missing key")
    equal(mc.set("greeting", "hello"), True, "set()")
    equal(mc.get("greeting"), "hello", "get() after set()")
    equal(mc.set("greeting", "hello again"), True, "set() over an existing key")
    equal(mc.get("greeting"), "hello again", "get() after the second set()")
    equal(mc.set("empty", b""), True, "set() of an empty value")
    equal(mc.get("empty"), b"", "get() of an empty value")
    long_key = "k" * 250
    equal(mc.set(long_key, b"longest key"), True, "set() of a 250-byte key")
    equal(mc.get(long_key), b"longest key", "get() of a 250-byte key")


@section("binary-safe values")
def _(mc, raw, other):
    equal(raw.set("awkward", AWKWARD), True, "set() of framing bytes")
    equal(raw.get("awkward"), AWKWARD, "get() of framing bytes")
    every_byte = bytes(range(256)) * 4
    equal(raw.set("every-byte", every_byte), True, "set() of every byte value")
    equal(raw.get("every-byte"), every_byte, "get() of every byte value")
    big = bytes((i * 7 + 3) % 256 for i in range(512 * 1024))
    equal(raw.set("big", big), True, "set() of a 512 KiB value")
    check(raw.get("big") == big, "get() of a 512 KiB value differs from what was set")


@section("flags round-trip through the serde")
def _(mc, raw, other):
    equal(mc.set("int", 42), True, "set() of an int")
    got = mc.get("int")
    check(type(got) is int and got == 42, f"get() of an int: expected 42 (int), got {got!r}")
    document = {"name": "blink", "tags": ["cache", "kv"], "size": 3, "nested": {"ok": True}}
    equal(mc.set("dict", document), True, "set() of a dict")
    equal(mc.get("dict"), document, "get() of a dict")
    equal(mc.set("text", "naïve"), True, "set() of a str")
    equal(mc.get("text"), "naïve", "get() of a str")
    # The pickled dict is only bytes without the flag that says it is a pickle.
    stored = raw.get("dict")
    check(isinstance(stored, bytes) and stored != b"", f"raw get() of the dict: {stored!r}")
    flagged = Client(mc.server, serde=FlagsSerde(), default_noreply=False)
    try:
        for flags in [0, 1, 12345, 2**31, 2**32 - 1]:
            equal(flagged.set("flags", (b"v", flags)), True, f"set() with flags {flags}")
            equal(flagged.get("flags"), (b"v", flags), f"get() of flags {flags}")
    finally:
        flagged.close()


@section("get_many and set_many")
def _(mc, raw, other):
    data = {"m1": 1, "m2": "two", "m3": [3], "m4": {"four": 4}}
    equal(mc.set_many(data), [], "set_many() reports no failed keys")
    equal(mc.get_many(["m1", "m2", "m3", "m4", "nope"]), data, "get_many()")
    equal(mc.get_multi(["m4", "nope", "m1"]), {"m4": {"four": 4}, "m1": 1}, "get_multi()")
    equal(mc.get_many([]), {}, "get_many() of no keys")
    many = {f"many:{i}": f"value {i}".encode() for i in range(200)}
    equal(raw.set_multi(many), [], "set_multi() of 200 keys")
    equal(raw.get_many(list(many)), many, "get_many() of 200 keys")


@section("add and replace")
def _(mc, raw, other):
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
def _(mc, raw, other):
    raw.set("list", b"middle")
    equal(raw.append("list", b"+end"), True, "append()")
    equal(raw.prepend("list", b"start+"), True, "prepend()")
    equal(raw.get("list"), b"start+middle+end", "get() after append() and prepend()")
    equal(raw.append("list", b"\x00\r\n"), True, "append() of framing bytes")
    equal(raw.get("list"), b"start+middle+end\x00\r\n", "get() after a binary append()")
    equal(raw.append("no-list", b"x"), False, "append() to a missing key")
    equal(raw.prepend("no-list", b"x"), False, "prepend() to a missing key")
    equal(raw.get("no-list"), None, "append() and prepend() create nothing")
    # append keeps the flags the item was stored with.
    mc.set("flagged", "text")
    raw.append("flagged", b" more")
    equal(mc.get("flagged"), "text more", "get() of a str after append()")


@section("gets and cas")
def _(mc, raw, other):
    mc.set("versioned", "v1")
    value, token = mc.gets("versioned")
    equal(value, "v1", "gets() value")
    check(isinstance(token, bytes) and token.isdigit(), f"gets() cas token: {token!r}")
    equal(mc.cas("versioned", "v2", token), True, "cas() with the current token")
    equal(mc.get("versioned"), "v2", "get() after cas()")
    equal(mc.cas("versioned", "v3", token), False, "cas() with a spent token")
    equal(mc.get("versioned"), "v2", "a failed cas() changes nothing")

    # A conflicting write from another connection between gets and cas.
    value, token = mc.gets("versioned")
    equal(other.set("versioned", "theirs"), True, "set() from another connection")
    equal(mc.cas("versioned", "mine", token), False, "cas() after a concurrent set()")
    equal(mc.get("versioned"), "theirs", "the concurrent value survives")
    _, fresh = mc.gets("versioned")
    check(fresh != token, f"a write changes the cas token: both {token!r}")
    equal(mc.cas("versioned", "mine", fresh), True, "cas() with the fresh token")
    equal(other.get("versioned"), "mine", "the other connection sees cas()'s value")

    equal(mc.gets("no-such"), (None, None), "gets() of a missing key")
    equal(mc.cas("no-such", "x", b"1"), None, "cas() of a missing key")
    equal(mc.get("no-such"), None, "cas() of a missing key stores nothing")
    tokens = mc.gets_many(["versioned", "present", "no-such"])
    equal(sorted(tokens), ["present", "versioned"], "gets_many() keys")
    equal(tokens["versioned"][0], "mine", "gets_many() value")


@section("incr and decr")
def _(mc, raw, other):
    raw.set("counter", b"10")
    equal(mc.incr("counter", 5), 15, "incr(5)")
    equal(mc.decr("counter", 3), 12, "decr(3)")
    equal(raw.get("counter"), b"12", "the counter's stored digits")
    equal(mc.decr("counter", 100), 0, "decr() below zero stops at 0")
    raw.set("counter", b"18446744073709551615")
    equal(mc.incr("counter", 1), 0, "incr() wraps at 2**64")
    raw.set("counter", b"99")
    equal(mc.incr("counter", 1), 100, "incr() past a digit boundary")
    equal(raw.get("counter"), b"100", "the counter grew a digit")
    equal(mc.incr("no-counter", 1), None, "incr() of a missing key")
    equal(mc.decr("no-counter", 1), None, "decr() of a missing key")
    raw.set("word", b"abc")
    try:
        got = mc.incr("word", 1)
        raise CheckFailed(f"incr() of a non-number: expected a client error, got {got!r}")
    except MemcacheClientError as error:
        check("non-numeric" in str(error), f"incr() of a non-number: {error}")
    equal(mc.get("greeting"), "hello again", "the connection works after the error")


@section("touch and expiry")
def _(mc, raw, other):
    equal(mc.touch("missing", 100), False, "touch() of a missing key")
    mc.set("lasting", "v", expire=100)
    equal(mc.touch("lasting", 0), True, "touch(0): never expire")
    equal(mc.get("lasting"), "v", "get() after touch(0)")
    mc.set("short", "v")
    equal(mc.touch("short", 1), True, "touch(1)")
    equal(mc.get("short"), "v", "get() right after touch(1)")
    wait_until(lambda: mc.get("short") is None, "get() returns None after touch(1)")
    mc.set("soon", "v", expire=1)
    wait_until(lambda: mc.get("soon") is None, "get() returns None after set(expire=1)")
    equal(mc.get("lasting"), "v", "a touched key outlives the short ones")


@section("delete")
def _(mc, raw, other):
    mc.set("doomed", "v")
    equal(mc.delete("doomed", noreply=False), True, "delete() of an existing key")
    equal(mc.get("doomed"), None, "get() after delete()")
    equal(mc.delete("doomed", noreply=False), False, "delete() of a missing key")
    mc.set_many({"d1": 1, "d2": 2})
    equal(mc.delete_many(["d1", "d2", "d3"]), True, "delete_many()")
    equal(mc.get_many(["d1", "d2"]), {}, "get_many() after delete_many()")


@section("version and flush_all")
def _(mc, raw, other):
    version = mc.version()
    check(isinstance(version, bytes) and version != b"", f"version(): {version!r}")
    mc.set("left", "over")
    equal(mc.flush_all(), True, "flush_all()")
    equal(mc.get("left"), None, "get() after flush_all()")
    equal(mc.get_many(["greeting", "dict", "counter"]), {}, "get_many() after flush_all()")


def clients(server):
    def make():
        return (
            Client(server, serde=serde.pickle_serde, default_noreply=False),
            Client(server, default_noreply=False),
            Client(server, serde=serde.pickle_serde, default_noreply=False),
        )

    return make


def runs(host, port, unix=None):
    found = [("tcp", clients((host, port)))]
    if unix is not None:
        found.append(("unix", clients(unix)))
    return found


if __name__ == "__main__":
    SECTIONS.main(
        "pymemcache_check.py [--keep-going] HOST PORT [UNIX_SOCKET_PATH]",
        runs,
        pymemcache.__version__,
        optional=1,
    )
