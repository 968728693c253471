#!/usr/bin/env node
// Acceptance check with the real `memcached` npm client, through its ordinary API.
//
// Usage: node memcached_check.js [--keep-going] HOST PORT
//
// Every check asserts memcached's documented behaviour (doc/protocol.txt) as this
// client reports it, so the script passes against a real memcached. The server is
// expected to be used by nobody else while the check runs (it calls flush_all).
//
// Exits 1 with a message naming the step on the first failed check (with --keep-going:
// after every step has run, listing each failed one); prints one summary line on
// success. The client is loaded from the node_modules beside this file:
// npm ci --prefix tests/clients
"use strict";

let Memcached;
try {
  Memcached = require("memcached");
} catch (error) {
  console.error("the memcached client is missing: .ci/test installs it (npm ci --prefix tests/clients)");
  process.exit(1);
}
const { CheckFailed, Sections, check, equal, show } = require("./checks");

const sections = new Sections("memcached (npm)");
const section = sections.section.bind(sections);

// The client's callback API as promises: resolves with the result, rejects with the
// error the client passed (an Error, or an array of them).
function call(mc, method, ...args) {
  return new Promise((resolve, reject) => {
    mc[method](...args, (error, result) => {
      if (error) {
        reject(Array.isArray(error) ? error[0] : error);
      } else {
        resolve(result);
      }
    });
  });
}

// A storage command the server answers NOT_STORED: the client reports an error marked
// notStored.
async function expectNotStored(promise, what) {
  let got;
  try {
    got = await promise;
  } catch (error) {
    check(error.notStored === true, `${what}: expected NOT_STORED, got the error ${show(error.message)}`);
    return;
  }
  throw new CheckFailed(`${what}: expected NOT_STORED, got the reply ${show(got)}`);
}

section("flush empties the server", async (mc) => {
  equal(await call(mc, "set", "before-flush", "x", 0), true, "set() before flush()");
  equal(await call(mc, "flush"), [true], "flush()");
  equal(await call(mc, "get", "before-flush"), undefined, "get() after flush()");
});

section("version", async (mc) => {
  const [version] = await call(mc, "version");
  check(/^\d+\.\d+\.\d+$/.test(version && version.version), `version(): ${show(version)}`);
});

section("set and get", async (mc) => {
  equal(await call(mc, "get", "missing"), undefined, "get() of a missing key");
  equal(await call(mc, "set", "greeting", "hello", 0), true, "set()");
  equal(await call(mc, "get", "greeting"), "hello", "get() after set()");
  equal(await call(mc, "set", "greeting", "hello again", 100), true, "set() with a lifetime");
  equal(await call(mc, "get", "greeting"), "hello again", "get() after the second set()");
  equal(await call(mc, "set", "empty", "", 0), true, "set() of an empty string");
  equal(await call(mc, "get", "empty"), "", "get() of an empty string");
  const unicode = "naïve ☃ 日本";
  equal(await call(mc, "set", "unicode", unicode, 0), true, "set() of non-ASCII text");
  equal(await call(mc, "get", "unicode"), unicode, "get() of non-ASCII text");
});

section("numbers, objects and buffers keep their type (flags)", async (mc) => {
  equal(await call(mc, "set", "number", 42, 0), true, "set() of a number");
  equal(await call(mc, "get", "number"), 42, "get() of a number");
  const document = { name: "blink", tags: ["cache", "kv"], nested: { ok: true } };
  equal(await call(mc, "set", "object", document, 0), true, "set() of an object");
  const got = await call(mc, "get", "object");
  equal(JSON.stringify(got), JSON.stringify(document), "get() of an object");
  // The client escapes line ends itself; NUL and bytes above 0x7f reach the server.
  const bytes = Buffer.from([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, 0x20, 0x09]);
  equal(await call(mc, "set", "buffer", bytes, 0), true, "set() of a Buffer");
  equal(await call(mc, "get", "buffer"), bytes, "get() of a Buffer");
});

section("getMulti", async (mc) => {
  await call(mc, "set", "m1", "one", 0);
  await call(mc, "set", "m2", 2, 0);
  await call(mc, "set", "m3", { three: 3 }, 0);
  const got = await call(mc, "getMulti", ["m1", "m2", "m3", "nope"]);
  equal(
    JSON.stringify(got, Object.keys(got).sort()),
    JSON.stringify({ m1: "one", m2: 2, m3: { three: 3 } }, ["m1", "m2", "m3"]),
    "getMulti()",
  );
  check(!("nope" in got), `getMulti() lists a missing key: ${show(got)}`);
  const keys = Array.from({ length: 100 }, (_, i) => `many:${i}`);
  for (const key of keys) {
    await call(mc, "set", key, `value of ${key}`, 0);
  }
  const many = await call(mc, "getMulti", keys);
  equal(Object.keys(many).length, 100, "getMulti() of 100 keys: how many came back");
  check(
    keys.every((key) => many[key] === `value of ${key}`),
    `getMulti() of 100 keys: wrong values ${show(many)}`,
  );
});

section("add, replace, append and prepend", async (mc) => {
  await call(mc, "set", "present", "first", 0);
  await expectNotStored(call(mc, "add", "present", "second", 0), "add() of an existing key");
  equal(await call(mc, "get", "present"), "first", "the value add() left alone");
  equal(await call(mc, "add", "fresh", "added", 0), true, "add() of a new key");
  equal(await call(mc, "get", "fresh"), "added", "get() after add()");
  await expectNotStored(call(mc, "replace", "absent", "x", 0), "replace() of a missing key");
  equal(await call(mc, "replace", "present", "replaced", 0), true, "replace() of an existing key");
  equal(await call(mc, "get", "present"), "replaced", "get() after replace()");
  equal(await call(mc, "append", "present", "+end"), true, "append()");
  equal(await call(mc, "prepend", "present", "start+"), true, "prepend()");
  equal(await call(mc, "get", "present"), "start+replaced+end", "get() after append() and prepend()");
  await expectNotStored(call(mc, "append", "absent", "x"), "append() to a missing key");
  equal(await call(mc, "get", "absent"), undefined, "nothing stored by the refused commands");
});

section("gets and cas", async (mc, other) => {
  await call(mc, "set", "versioned", "v1", 0);
  const first = await call(mc, "gets", "versioned");
  equal(first && first.versioned, "v1", "gets() value");
  check(/^\d+$/.test(first && first.cas), `gets() cas token: ${show(first)}`);
  equal(await call(mc, "cas", "versioned", "v2", first.cas, 0), true, "cas() with the current token");
  equal(await call(mc, "get", "versioned"), "v2", "get() after cas()");
  equal(await call(mc, "cas", "versioned", "v3", first.cas, 0), false, "cas() with a spent token");

  // A conflicting write from another client between gets and cas.
  const second = await call(mc, "gets", "versioned");
  equal(await call(other, "set", "versioned", "theirs", 0), true, "set() from another client");
  equal(await call(mc, "cas", "versioned", "mine", second.cas, 0), false, "cas() after a concurrent set()");
  equal(await call(mc, "get", "versioned"), "theirs", "the concurrent value survives");
  const third = await call(mc, "gets", "versioned");
  check(third.cas !== second.cas, `a write changes the cas token: both ${show(third.cas)}`);
  equal(await call(mc, "cas", "versioned", "mine", third.cas, 0), true, "cas() with the fresh token");
  equal(await call(other, "get", "versioned"), "mine", "the other client sees cas()'s value");
  equal(await call(mc, "gets", "no-such"), undefined, "gets() of a missing key");
  equal(await call(mc, "cas", "no-such", "x", "1", 0), false, "cas() of a missing key");
});

section("incr and decr", async (mc) => {
  await call(mc, "set", "counter", "10", 0);
  equal(await call(mc, "incr", "counter", 5), 15, "incr(5)");
  equal(await call(mc, "decr", "counter", 3), 12, "decr(3)");
  equal(await call(mc, "decr", "counter", 100), 0, "decr() below zero stops at 0");
  equal(await call(mc, "incr", "counter", 7), 7, "incr() after the floor");
  equal(await call(mc, "incr", "no-counter", 1), false, "incr() of a missing key");
  equal(await call(mc, "decr", "no-counter", 1), false, "decr() of a missing key");
  await call(mc, "set", "word", "abc", 0);
  let failed = null;
  try {
    await call(mc, "incr", "word", 1);
  } catch (error) {
    failed = error;
  }
  check(failed && /non-numeric/.test(failed.message), `incr() of a non-number: ${show(failed)}`);
  equal(await call(mc, "get", "greeting"), "hello again", "the connection works after the error");
});

section("touch", async (mc) => {
  equal(await call(mc, "touch", "missing", 100), false, "touch() of a missing key");
  await call(mc, "set", "lasting", "v", 100);
  equal(await call(mc, "touch", "lasting", 0), true, "touch(0)");
  equal(await call(mc, "get", "lasting"), "v", "get() after touch()");
  // A negative lifetime expires the item at once (protocol.txt).
  equal(await call(mc, "touch", "lasting", -1), true, "touch(-1)");
  equal(await call(mc, "get", "lasting"), undefined, "get() after touch(-1)");
});

section("del and flush", async (mc) => {
  await call(mc, "set", "doomed", "v", 0);
  equal(await call(mc, "del", "doomed"), true, "del() of an existing key");
  equal(await call(mc, "get", "doomed"), undefined, "get() after del()");
  equal(await call(mc, "del", "doomed"), false, "del() of a missing key");
  await call(mc, "set", "left", "over", 0);
  equal(await call(mc, "flush"), [true], "flush()");
  equal(await call(mc, "get", "left"), undefined, "get() after flush()");
  const gone = await call(mc, "getMulti", ["greeting", "counter", "m1"]);
  equal(Object.keys(gone).length, 0, "getMulti() after flush()");
});

function runs(host, port) {
  // No retries and a short timeout: a server that does not answer fails the check
  // instead of being retried for minutes.
  const options = { retries: 0, timeout: 2000, retry: 1000, failures: 0, poolSize: 1 };
  const open = () => {
    const mc = new Memcached(`${host}:${port}`, options);
    const other = new Memcached(`${host}:${port}`, options);
    return [[mc, other], () => (mc.end(), other.end())];
  };
  return [["tcp", open]];
}

// The client drops a call whose arguments it does not accept without calling back, and
// node then exits 0 with the check unfinished: make that a failure.
let finished = false;
process.on("beforeExit", () => {
  if (!finished) {
    console.error("memcached (npm) FAILED: a call never called back (the check stopped unfinished)");
    process.exit(1);
  }
});
sections
  .main("memcached_check.js [--keep-going] HOST PORT", runs, require("memcached/package.json").version)
  .then(() => {
    finished = true;
  });
