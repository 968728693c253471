#!/usr/bin/env python3
"""Acceptance check of Flask-Caching's Redis backend (CACHE_TYPE "RedisCache") in a
minimal Flask app: the cache operations, `@cache.memoize` and `@cache.cached` with their
hits counted, `delete_memoized`, and `clear()`, which with the default key prefix finds
the app's keys with KEYS and deletes only those.

Usage: python3 flask_caching_check.py [--keep-going] HOST PORT

The server is expected to have a single database and to be used by nobody else while
the check runs (it starts with FLUSHDB).

Exits 1 with a message naming the step on the first failed check (with --keep-going:
after every step has run); prints one summary line on success.
"""

import importlib.metadata
import sys
from collections import Counter

try:
    import flask
    from flask_caching import Cache
except ImportError:
    sys.exit(
        "Flask-Caching is missing: .ci/test installs it (pip install flask-caching in target/pyenv)"
    )
try:
    import redis
except ImportError:
    sys.exit("redis-py is missing: .ci/test installs it (pip install redis in target/pyenv)")

from checks import Sections, between, equal

SECTIONS = Sections("Flask-Caching RedisCache")
section = SECTIONS.section

PREFIX = "flask_cache_"
DEFAULT_TIMEOUT = 300
# How often each decorated function has run.
CALLS = Counter()


@section("set, get, add, delete and has")
def _(app, cache, raw):
    equal(raw.flushdb(), True, "FLUSHDB before the checks")
    raw.set("outside-the-app", "kept")
    equal(cache.set("greeting", "hello"), True, "set()")
    equal(raw.get(PREFIX + "greeting") is not None, True, "set() writes the prefixed key")
    equal(cache.get("greeting"), "hello", "get()")
    equal(cache.get("missing"), None, "get() of a missing key")
    value = {"list": [1, 2.5, None], "bytes": bytes(range(256))}
    cache.set("object", value)
    equal(cache.get("object"), value, "a pickled object round trip")
    between(raw.ttl(PREFIX + "greeting"), DEFAULT_TIMEOUT - 2, DEFAULT_TIMEOUT,
            "TTL after set() with the default timeout")
    cache.set("hundred", "v", timeout=100)
    between(raw.ttl(PREFIX + "hundred"), 98, 100, "TTL after set(timeout=100)")
    cache.set("forever", "v", timeout=0)
    equal(raw.ttl(PREFIX + "forever"), -1, "TTL after set(timeout=0), which never expires")
    equal(cache.add("greeting", "other"), False, "add() of an existing key")
    equal(cache.get("greeting"), "hello", "the value add() did not replace")
    equal(cache.add("added", "new", timeout=50), True, "add() of a new key")
    between(raw.ttl(PREFIX + "added"), 48, 50, "TTL after add(timeout=50)")
    equal(cache.has("added"), True, "has() of an existing key")
    equal(cache.has("missing"), False, "has() of a missing key")
    equal(cache.delete("added"), True, "delete() of an existing key")
    equal(cache.delete("added"), False, "delete() of a missing key")
    equal(cache.has("added"), False, "has() after delete()")


@section("inc, dec, set_many, get_many and delete_many")
def _(app, cache, raw):
    # The Cache object does not forward inc() and dec(): the backend has them.
    backend = cache.cache
    equal(backend.inc("counter"), 1, "inc() of a missing key")
    equal(backend.inc("counter", 5), 6, "inc(5)")
    equal(backend.dec("counter", 10), -4, "dec(10)")
    equal(cache.get("counter"), -4, "get() after inc() and dec()")
    equal(raw.get(PREFIX + "counter"), b"-4", "the counter's stored digits")
    data = {"m1": 1, "m2": "two", "m3": [3]}
    equal(sorted(cache.set_many(data, timeout=100)), ["m1", "m2", "m3"], "set_many() sets every key")
    for key in data:
        between(raw.ttl(PREFIX + key), 98, 100, f"TTL of {key} after set_many(timeout=100)")
    equal(cache.get_many("m1", "m2", "m3", "nope"), [1, "two", [3], None], "get_many()")
    equal(cache.get_dict("m1", "nope"), {"m1": 1, "nope": None}, "get_dict()")
    equal(sorted(cache.delete_many("m1", "m2", "nope")), ["m1", "m2", "nope"], "delete_many()")
    equal(cache.get_many("m1", "m2", "m3"), [None, None, [3]], "get_many() after delete_many()")


@section("@cache.memoize and delete_memoized")
def _(app, cache, raw):
    @cache.memoize(timeout=100)
    def square(n):
        CALLS["square"] += 1
        return {"n": n, "square": n * n}

    equal(square(3), {"n": 3, "square": 9}, "square(3)")
    equal(square(3), {"n": 3, "square": 9}, "square(3) again")
    equal(CALLS["square"], 1, "calls after a memoized hit")
    square(4)
    square(4)
    equal(CALLS["square"], 2, "calls after square(4) twice")
    cache.delete_memoized(square, 3)
    equal(square(3), {"n": 3, "square": 9}, "square(3) after delete_memoized(square, 3)")
    equal(CALLS["square"], 3, "square(3) runs again after delete_memoized(square, 3)")
    square(4)
    equal(CALLS["square"], 3, "square(4) is still cached")
    cache.delete_memoized(square)
    square(3)
    square(4)
    equal(CALLS["square"], 5, "both run again after delete_memoized(square)")
    square(3)
    equal(CALLS["square"], 5, "and are cached again")


@section("@cache.cached on a view and on a function")
def _(app, cache, raw):
    @app.route("/hello/<name>")
    @cache.cached(timeout=100)
    def hello(name):
        CALLS["hello"] += 1
        return f"hello {name} #{CALLS['hello']}"

    client = app.test_client()
    equal(client.get("/hello/ann").get_data(as_text=True), "hello ann #1", "GET /hello/ann")
    equal(client.get("/hello/ann").get_data(as_text=True), "hello ann #1", "GET /hello/ann again")
    equal(client.get("/hello/bob").get_data(as_text=True), "hello bob #2", "GET /hello/bob")
    equal(CALLS["hello"], 2, "view calls after a cached hit")
    between(raw.ttl(PREFIX + "view//hello/ann"), 98, 100, "TTL of the cached view")
    equal(cache.delete("view//hello/ann"), True, "delete() of the cached view")
    equal(client.get("/hello/ann").get_data(as_text=True), "hello ann #3", "GET /hello/ann after delete()")

    @cache.cached(timeout=100, key_prefix="settings")
    def load_settings():
        CALLS["settings"] += 1
        return {"theme": "dark"}

    equal(load_settings(), {"theme": "dark"}, "load_settings()")
    equal(load_settings(), {"theme": "dark"}, "load_settings() again")
    equal(CALLS["settings"], 1, "load_settings() calls after a cached hit")
    equal(cache.get("settings"), {"theme": "dark"}, "get() of the cached function's key")


@section("clear deletes the app's keys and only those")
def _(app, cache, raw):
    equal(cache.clear(), True, "clear()")
    equal(cache.get("greeting"), None, "get() after clear()")
    equal(cache.get("settings"), None, "the cached function's key after clear()")
    equal(raw.keys(PREFIX + "*"), [], "KEYS of the prefix after clear()")
    equal(raw.get("outside-the-app"), b"kept", "a key without the prefix survives clear()")
    raw.delete("outside-the-app")
    before = CALLS["square"]
    equal(cache.clear(), False, "clear() of an empty cache")
    equal(CALLS["square"], before, "clear() calls nothing")


def runs(host, port):
    def make():
        app = flask.Flask("flask_caching_check")
        app.config.update(
            CACHE_TYPE="RedisCache",
            CACHE_REDIS_HOST=host,
            CACHE_REDIS_PORT=port,
            CACHE_DEFAULT_TIMEOUT=DEFAULT_TIMEOUT,
        )
        cache = Cache(app)
        context = app.app_context()
        context.push()
        return app, cache, redis.Redis(host, port)

    return [("default", make)]


if __name__ == "__main__":
    SECTIONS.main(
        "flask_caching_check.py [--keep-going] HOST PORT",
        runs,
        importlib.metadata.version("flask-caching"),
    )
