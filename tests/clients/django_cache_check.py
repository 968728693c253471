#!/usr/bin/env python3
"""Acceptance check of Django's built-in Redis cache backend
(`django.core.cache.backends.redis.RedisCache`, Django 4.0 and later), configured in
this script alone with `settings.configure`.

Usage: python3 django_cache_check.py [--keep-going] HOST PORT

Every cache operation is checked for its result, and each timeout against the TTL the
server reports. The server is expected to have a single database and to be used by
nobody else while the check runs (`cache.clear()` is FLUSHDB).

Exits 1 with a message naming the step on the first failed check (with --keep-going:
after every step has run); prints one summary line on success.
"""

import sys

try:
    import django
    from django.conf import settings
except ImportError:
    sys.exit("Django is missing: .ci/test installs it (pip install django in target/pyenv)")
try:
    import redis
except ImportError:
    sys.exit("redis-py is missing: .ci/test installs it (pip install redis in target/pyenv)")

from checks import CheckFailed, Sections, between, equal, wait_until

SECTIONS = Sections("Django RedisCache")
section = SECTIONS.section

DEFAULT_TIMEOUT = 300


@section("clear, set and get")
def _(cache, raw):
    raw.set("not-django", "x")
    equal(cache.clear(), True, "clear()")
    equal(raw.dbsize(), 0, "DBSIZE after clear()")
    equal(cache.set("greeting", "hello"), None, "set()")
    equal(cache.get("greeting"), "hello", "get()")
    equal(cache.get("missing"), None, "get() of a missing key")
    equal(cache.get("missing", "fallback"), "fallback", "get() with a default")
    value = {"list": [1, 2.5, None], "bytes": bytes(range(256)), "text": "é\r\n\x00"}
    cache.set("object", value)
    equal(cache.get("object"), value, "a pickled object round trip")
    cache.set("number", 42)
    equal(raw.get(cache.make_key("number")), b"42", "an int is stored as its digits")
    equal(cache.get("number"), 42, "get() of an int")


@section("timeouts")
def _(cache, raw):
    cache.set("default", "v")
    between(raw.ttl(cache.make_key("default")), DEFAULT_TIMEOUT - 2, DEFAULT_TIMEOUT,
            "TTL after set() with the default timeout")
    cache.set("hundred", "v", timeout=100)
    between(raw.ttl(cache.make_key("hundred")), 98, 100, "TTL after set(timeout=100)")
    cache.set("forever", "v", timeout=None)
    equal(raw.ttl(cache.make_key("forever")), -1, "TTL after set(timeout=None)")
    cache.set("forever", "v", timeout=0)
    equal(cache.has_key("forever"), False, "set(timeout=0) deletes the key")
    cache.set("soon", "v", timeout=1)
    equal(cache.get("soon"), "v", "get() before a 1 s timeout")
    wait_until(lambda: cache.get("soon") is None, "get() returns None after the timeout")
    equal(cache.has_key("soon"), False, "has_key() after the timeout")


@section("add and get_or_set")
def _(cache, raw):
    equal(cache.add("greeting", "other"), False, "add() of an existing key")
    equal(cache.get("greeting"), "hello", "the value add() did not replace")
    equal(cache.add("added", "new", timeout=50), True, "add() of a new key")
    equal(cache.get("added"), "new", "get() after add()")
    between(raw.ttl(cache.make_key("added")), 48, 50, "TTL after add(timeout=50)")
    equal(cache.add("zero", "v", timeout=0), True, "add(timeout=0)")
    equal(cache.has_key("zero"), False, "add(timeout=0) leaves nothing behind")
    calls = []

    def compute():
        calls.append(1)
        return ["computed", len(calls)]

    equal(cache.get_or_set("lazy", compute, timeout=100), ["computed", 1], "get_or_set() computes")
    equal(cache.get_or_set("lazy", compute, timeout=100), ["computed", 1], "get_or_set() hits")
    equal(len(calls), 1, "calls of the default callable")
    between(raw.ttl(cache.make_key("lazy")), 98, 100, "TTL after get_or_set(timeout=100)")


@section("set_many, get_many and delete_many")
def _(cache, raw):
    data = {"m1": 1, "m2": "two", "m3": [3], "m4": {"four": 4}}
    equal(cache.set_many(data, timeout=100), [], "set_many() reports no failed keys")
    for key in data:
        between(raw.ttl(cache.make_key(key)), 98, 100, f"TTL of {key} after set_many(timeout=100)")
    equal(cache.get_many(["m1", "m2", "m3", "m4", "nope"]), data, "get_many()")
    cache.set_many({"p1": "a", "p2": "b"}, timeout=None)
    equal(raw.ttl(cache.make_key("p1")), -1, "TTL after set_many(timeout=None)")
    equal(cache.delete_many(["m1", "m2", "nope"]), None, "delete_many()")
    equal(cache.get_many(["m1", "m2", "m3", "m4"]), {"m3": [3], "m4": {"four": 4}},
          "get_many() after delete_many()")
    equal(cache.delete("m3"), True, "delete() of an existing key")
    equal(cache.delete("m3"), False, "delete() of a missing key")


@section("incr, decr and versions")
def _(cache, raw):
    cache.set("counter", 10)
    equal(cache.incr("counter"), 11, "incr()")
    equal(cache.incr("counter", 5), 16, "incr(5)")
    equal(cache.decr("counter", 20), -4, "decr(20)")
    equal(cache.get("counter"), -4, "get() after incr() and decr()")
    equal(raw.get(cache.make_key("counter")), b"-4", "the counter's stored digits")
    try:
        cache.incr("no-counter")
        raise CheckFailed("incr() of a missing key did not raise ValueError")
    except ValueError:
        pass
    cache.set("versioned", "v1")
    cache.set("versioned", "v2", version=2)
    equal(cache.get("versioned"), "v1", "get() of version 1")
    equal(cache.get("versioned", version=2), "v2", "get() of version 2")
    equal(cache.incr_version("versioned", version=2), 3, "incr_version()")
    equal(cache.get("versioned", version=3), "v2", "get() of the new version")
    equal(cache.get("versioned", version=2), None, "get() of the old version")


@section("touch and has_key")
def _(cache, raw):
    equal(cache.touch("greeting", 200), True, "touch(200)")
    between(raw.ttl(cache.make_key("greeting")), 198, 200, "TTL after touch(200)")
    equal(cache.touch("greeting", None), True, "touch(None)")
    equal(raw.ttl(cache.make_key("greeting")), -1, "TTL after touch(None)")
    equal(cache.touch("missing", 10), False, "touch() of a missing key")
    equal(cache.has_key("greeting"), True, "has_key() of an existing key")
    equal(cache.has_key("missing"), False, "has_key() of a missing key")
    equal(cache.touch("greeting", 0), True, "touch(0)")
    equal(cache.has_key("greeting"), False, "touch(0) expires the key")


@section("clear")
def _(cache, raw):
    cache.set("left", "over")
    equal(cache.clear(), True, "clear()")
    equal(cache.get("left"), None, "get() after clear()")
    equal(cache.get_many(["counter", "lazy", "m4"]), {}, "get_many() after clear()")
    equal(raw.dbsize(), 0, "DBSIZE after clear()")


def runs(host, port):
    settings.configure(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://{host}:{port}/0",
                "TIMEOUT": DEFAULT_TIMEOUT,
                "KEY_PREFIX": "dj",
            }
        }
    )
    django.setup()
    from django.core.cache import cache

    return [("default", lambda: (cache, redis.Redis(host, port)))]


if __name__ == "__main__":
    SECTIONS.main("django_cache_check.py [--keep-going] HOST PORT", runs, django.__version__)
