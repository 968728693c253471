#!/usr/bin/env python3
"""A tiny HTTP service that keeps the results of a slow lookup in Blink Store.

    BLINK_ADDR=127.0.0.1:8765 PORT=8000 python3 backend_app.py
    curl -i http://127.0.0.1:8000/users/42    # slow: computed, then cached for 60 s
    curl -i http://127.0.0.1:8000/users/42    # fast: "cached": true, X-Cache: HIT

Cache-aside: look in the cache first; on a miss compute the answer, store it with a
TTL, and return it. If Blink Store is unreachable the service still answers, uncached.
Standard library only. The server address comes from BLINK_SOCKET (a Unix socket
path) or BLINK_ADDR (host:port); the HTTP port from PORT (default 8000; 0 picks a free
one, printed at start-up).
"""

import json
import os
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

from blink_client import BlinkClient, BlinkError

CACHE_TTL_SECONDS = 60
LOOKUP_DELAY_SECONDS = 0.5
USER_PATH = re.compile(r"^/users/([A-Za-z0-9_-]{1,64})$")

cache = BlinkClient.from_env()  # one connection, shared by the handler threads


def expensive_lookup(user_id: str) -> dict:
    """Stands in for a slow database query or remote call."""
    time.sleep(LOOKUP_DELAY_SECONDS)
    return {"id": user_id, "name": f"User {user_id}", "computed_at": time.time()}


def cached_lookup(user_id: str):
    """The user and whether it came from the cache."""
    key = f"user:{user_id}"
    try:
        hit = cache.get(key)
        if hit is not None:
            return json.loads(hit), True
    except BlinkError as error:
        print(f"cache read failed, computing instead: {error}", file=sys.stderr)
    user = expensive_lookup(user_id)
    try:
        cache.set(key, json.dumps(user), ttl=CACHE_TTL_SECONDS)
    except BlinkError as error:
        print(f"cache write failed: {error}", file=sys.stderr)
    return user, False


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        match = USER_PATH.match(self.path)
        if not match:
            self.reply(404, {"error": "try /users/<id>"})
            return
        started = time.monotonic()
        user, cached = cached_lookup(match.group(1))
        elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        body = {"user": user, "cached": cached, "elapsed_ms": elapsed_ms}
        self.reply(200, body, {"X-Cache": "HIT" if cached else "MISS"})

    def reply(self, status: int, body: dict, headers: Optional[dict] = None) -> None:
        data = json.dumps(body).encode() + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def main() -> None:
    port = int(os.environ.get("PORT", "8000"))
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"listening on http://127.0.0.1:{server.server_port}", flush=True)
    print(f"caching in Blink Store at {cache.address}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        cache.close()


if __name__ == "__main__":
    main()
