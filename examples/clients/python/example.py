#!/usr/bin/env python3
"""A tour of blink_client.py.

Connects to BLINK_SOCKET (a Unix socket path) if set, else BLINK_ADDR (host:port),
else 127.0.0.1:8765:

    BLINK_ADDR=127.0.0.1:8765 python3 example.py
"""

import sys

from blink_client import BlinkClient, BlinkError


def main() -> int:
    try:
        with BlinkClient.from_env() as client:
            client.ping()
            print(f"connected to Blink Store at {client.address}")

            client.set("example:greeting", "hello, world")
            print("greeting:", client.get_str("example:greeting"))

            client.set("example:bytes", bytes([0, 1, 2, 254, 255]))
            print("bytes:", client.get("example:bytes"))

            print("missing:", client.get("example:missing"))  # None

            client.set("example:session", "token-123", ttl=60)
            print("session ttl:", client.ttl("example:session"), "seconds")
            client.persist("example:session")
            print("session ttl after persist:", client.ttl("example:session"))

            with client.pipeline() as p:
                for n in range(5):
                    p.set(f"example:n:{n}", str(n * n))
                for n in range(5):
                    p.get_str(f"example:n:{n}")
            print("pipelined squares:", p.results[5:])

            try:
                client.set("example:bad", "two\nlines")
            except ValueError as error:
                print("refused before sending:", error)

            try:
                client.get("k" * 5000)
            except BlinkError as error:
                print("server error:", error)

            print("deleted:", client.delete("example:greeting"))
            print("usage:", client.usage(), "bytes")
            info = client.info()
            print(f"info: keys={info['keys']} hits={info['hits']} misses={info['misses']}")
    except BlinkError as error:  # BlinkConnectionError when the server is down
        print(f"example: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
