"""What the Python acceptance scripts share: assertions that count themselves, named
sections, and a runner that reports the first failed section (or, with --keep-going,
every failed one) and exits non-zero.

A script registers its sections with `@section("name")` on a `Sections` object, each a
function of the objects its runs hand it, then calls `sections.main(...)`.
"""

import sys
import time
import traceback


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


def error_text(error):
    """The error line as the server sent it (redis-py strips a known prefix)."""
    code = getattr(error, "status_code", None)
    return f"{code} {error}" if code else str(error)


def expect_raises(call, kind, contains, what):
    """`call` must raise `kind` with `contains` in its text; returns the exception."""
    try:
        got = call()
    except kind as error:
        text = error_text(error)
        check(contains in text, f"{what}: expected an error containing {contains!r}, got {text!r}")
        return error
    raise CheckFailed(f"{what}: expected {kind.__name__} ({contains!r}), got the reply {got!r}")


def wait_until(condition, what, deadline_seconds=5.0):
    """Polls `condition` until it holds; fails the check after `deadline_seconds`."""
    deadline = time.monotonic() + deadline_seconds
    while not condition():
        if time.monotonic() > deadline:
            raise CheckFailed(f"{what}: still not so after {deadline_seconds} s")
        time.sleep(0.02)


class Sections:
    """Named steps of one acceptance script, run in the order they were registered."""

    def __init__(self, client_name):
        # Names the client in every failure message.
        self.client_name = client_name
        # (name, function) pairs.
        self.steps = []

    def section(self, name):
        def register(function):
            self.steps.append((name, function))
            return function

        return register

    def run(self, label, args, keep_going, failures):
        """Runs every section with `args`; stops at the first failure unless
        `keep_going`."""
        for name, function in self.steps:
            try:
                function(*args)
                continue
            except CheckFailed as failure:
                message = f"{self.client_name} FAILED [{label}] at step '{name}': {failure}"
            except Exception as error:  # an error reply, a reply the client could not take
                message = (
                    f"{self.client_name} FAILED [{label}] at step '{name}': "
                    f"{type(error).__name__}: {error_text(error)}"
                )
                if not keep_going:
                    traceback.print_exc(limit=-4, file=sys.stderr)
            print(message, file=sys.stderr)
            failures.append(message)
            if not keep_going:
                return

    def main(self, usage, runs, version, optional=0):
        """Parses `[--keep-going] HOST PORT` and up to `optional` more arguments, then
        for each `(label, make)` of `runs(host, port, *more)` runs every section with
        the tuple `make()` returns; exits 1 on a failure, else prints one summary line
        naming `version`."""
        args = sys.argv[1:]
        keep_going = "--keep-going" in args
        args = [arg for arg in args if arg != "--keep-going"]
        if not 2 <= len(args) <= 2 + optional:
            sys.exit(f"usage: {usage}")
        host, port = args[0], int(args[1])
        failures = []
        labels = []
        for label, make in runs(host, port, *args[2:]):
            labels.append(label)
            self.run(label, make(), keep_going, failures)
            if failures and not keep_going:
                sys.exit(1)
        if failures:
            print(f"{self.client_name}: {len(failures)} failed steps", file=sys.stderr)
            sys.exit(1)
        runs_text = f"{len(labels)} run" + ("s" if len(labels) != 1 else "")
        print(
            f"{self.client_name} {version}: all checks passed in {runs_text} "
            f"({', '.join(labels)}), {CHECKS[0]} checks"
        )
