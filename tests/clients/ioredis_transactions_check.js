#!/usr/bin/env node
// Acceptance check of ioredis's transactions, pipelines and SCAN stream.
//
// Usage: node ioredis_transactions_check.js [--keep-going] HOST PORT
//
// Runs every section with ioredis's default settings and with protocol: 2:
// multi()...exec() (its array of [error, reply] pairs), errors inside and before EXEC,
// multi({ pipeline: false }) with DISCARD, WATCH and UNWATCH against a second client's
// writes, pipeline(), and scanStream({ match, count }) collecting every key. The server
// is expected to have a single database and to be used by nobody else while the check
// runs (it calls FLUSHDB).
//
// Exits 1 with a message naming the run and the step on the first failed check (with
// --keep-going: after every step has run); prints one summary line on success. ioredis is
// loaded from the node_modules beside this file: npm ci --prefix tests/clients
"use strict";

let ioredis;
try {
  ioredis = require("ioredis");
} catch (error) {
  console.error("ioredis is missing: .ci/test installs it (npm ci --prefix tests/clients)");
  process.exit(1);
}
const Redis = ioredis.Redis || ioredis.default || ioredis;
const { Sections, between, check, equal, expectError, ready, show } = require("./checks");

const SECTIONS = new Sections("ioredis transactions");
const section = SECTIONS.section.bind(SECTIONS);
const NOT_AN_INTEGER = "ERR value is not an integer or out of range";

// The replies of an exec() that had no errors, without their error slots.
function replies(results, what) {
  check(Array.isArray(results), `${what}: exec() gave ${show(results)}`);
  const failed = results.findIndex(([error]) => error);
  check(failed === -1, `${what}: command #${failed} failed: ${show(results[failed])}`);
  return results.map(([, reply]) => reply);
}

section("multi()...exec() returns every reply", async (r, other, k) => {
  equal(await r.flushdb(), "OK", "FLUSHDB");
  const results = await r
    .multi()
    .set(k("a"), "1")
    .incr(k("a"))
    .incrby(k("a"), 40)
    .get(k("a"))
    .mset(k("b"), "two", k("c"), "three")
    .mget(k("b"), k("missing"), k("c"))
    .expire(k("b"), 100)
    .ttl(k("b"))
    .del(k("c"), k("missing"))
    .exec();
  const got = replies(results, "multi()");
  equal(got.slice(0, 5), ["OK", 2, 42, "42", "OK"], "MULTI/EXEC replies");
  equal(got[5], ["two", null, "three"], "MGET in MULTI");
  equal(got[6], 1, "EXPIRE in MULTI");
  between(got[7], 98, 100, "TTL in MULTI");
  equal(got[8], 1, "DEL in MULTI");
  equal(await r.multi().exec(), [], "an empty multi()");
  const batch = await r.multi([["set", k("d"), "4"], ["get", k("d")]]).exec();
  equal(replies(batch, "multi(commands)"), ["OK", "4"], "multi() of an array of commands");
});

section("a failing command inside exec() does not stop the others", async (r, other, k) => {
  const results = await r.multi().set(k("text"), "abc").incr(k("text")).append(k("text"), "def").exec();
  equal(results.length, 3, "exec() reply count");
  equal(results[0], [null, "OK"], "SET before the failing INCR");
  check(
    results[1][0] instanceof Error && results[1][0].message === NOT_AN_INTEGER,
    `INCR on text inside EXEC: ${show(results[1])}`,
  );
  equal(results[2], [null, 6], "APPEND after the failing INCR");
  equal(await r.get(k("text")), "abcdef", "the transaction's writes");
});

section("a command refused while queued discards the transaction", async (r, other, k) => {
  await r.set(k("kept"), "before");
  const error = await expectError(
    r.multi().set(k("kept"), "after").call("SET", k("kept")).incr(k("counter")).exec(),
    "EXECABORT Transaction discarded because of previous errors.",
    "exec() after a wrong arity",
  );
  const previous = (error.previousErrors || []).map((e) => e.message);
  equal(previous, ["ERR wrong number of arguments for 'set' command"], "the errors before EXEC");
  equal(await r.get(k("kept")), "before", "nothing of the discarded transaction ran");
  equal(await r.exists(k("counter")), 0, "INCR of the discarded transaction");
  equal(await r.ping(), "PONG", "the connection is usable after EXECABORT");
});

section("multi({ pipeline: false }), exec() and discard()", async (r, other, k) => {
  equal(await r.multi({ pipeline: false }), "OK", "MULTI");
  equal(await r.set(k("q"), "queued"), "QUEUED", "SET inside MULTI");
  equal(await r.get(k("q")), "QUEUED", "GET inside MULTI");
  equal(await other.exists(k("q")), 0, "another client does not see queued writes");
  equal(replies(await r.exec(), "EXEC"), ["OK", "queued"], "EXEC");
  equal(await r.multi({ pipeline: false }), "OK", "MULTI before DISCARD");
  equal(await r.set(k("q"), "discarded"), "QUEUED", "SET before DISCARD");
  equal(await r.discard(), "OK", "DISCARD");
  equal(await r.get(k("q")), "queued", "DISCARD dropped the queued SET");
  await expectError(r.exec(), "ERR EXEC without MULTI", "EXEC without MULTI");
  await expectError(r.discard(), "ERR DISCARD without MULTI", "DISCARD without MULTI");
});

section("WATCH aborts exec() after another client's write; UNWATCH does not", async (r, other, k) => {
  const key = k("watched");
  await r.set(key, "v0");
  equal(await r.watch(key), "OK", "WATCH");
  await other.set(key, "by another client");
  equal(await r.multi().set(key, "mine").exec(), null, "exec() after a conflicting write");
  equal(await r.get(key), "by another client", "the aborted transaction wrote nothing");
  await r.watch(k("absent"));
  await other.set(k("absent"), "created");
  equal(await r.multi().set(k("absent"), "mine").exec(), null, "exec() after the key was created");
  await r.watch(key);
  equal(await r.unwatch(), "OK", "UNWATCH");
  await other.set(key, "after UNWATCH");
  equal(replies(await r.multi().set(key, "mine").exec(), "exec() after UNWATCH"), ["OK"], "exec() after UNWATCH");
  await r.watch(key);
  await other.get(key);
  await other.set(k("unwatched"), "x");
  equal(
    replies(await r.multi().get(key).exec(), "exec() without a conflict"),
    ["mine"],
    "reads and writes of other keys do not abort",
  );
});

section("pipeline() returns every reply in order", async (r, other, k) => {
  const n = 300;
  const pipe = r.pipeline();
  for (let i = 0; i < n; i += 1) {
    pipe.set(k(`p${i}`), String(i));
  }
  for (let i = 0; i < n; i += 1) {
    pipe.incr(k(`p${i}`));
  }
  pipe.call("SET", k("p0"));
  pipe.get(k("p0"));
  const results = await pipe.exec();
  equal(results.length, 2 * n + 2, "pipeline reply count");
  equal(replies(results.slice(0, 2 * n), "pipeline"), [
    ...new Array(n).fill("OK"),
    ...Array.from({ length: n }, (_, i) => i + 1),
  ], "300 SETs then 300 INCRs");
  check(
    results[2 * n][0] instanceof Error &&
      results[2 * n][0].message === "ERR wrong number of arguments for 'set' command",
    `a wrong arity in a pipeline gets its own error: ${show(results[2 * n])}`,
  );
  equal(results[2 * n + 1], [null, "1"], "GET after the error");
  const batch = await r.pipeline([["set", k("pb"), "v"], ["get", k("pb")], ["del", k("pb")]]).exec();
  equal(replies(batch, "pipeline(commands)"), ["OK", "v", 1], "pipeline() of an array of commands");
});

// Every key a scanStream gives; SCAN may give a key more than once.
function scanAll(r, options) {
  return new Promise((resolve, reject) => {
    const keys = new Set();
    const stream = r.scanStream(options);
    stream.on("data", (batch) => batch.forEach((key) => keys.add(key)));
    stream.on("end", () => resolve(keys));
    stream.on("error", reject);
  });
}

function sameSet(got, expected, what) {
  const missing = [...expected].filter((key) => !got.has(key));
  const extra = [...got].filter((key) => !expected.has(key));
  check(
    missing.length === 0 && extra.length === 0,
    `${what}: ${missing.length} keys missing (${show(missing.slice(0, 5))}), ` +
      `${extra.length} extra (${show(extra.slice(0, 5))})`,
  );
}

section("scanStream({ match, count }) yields every key", async (r, other, k) => {
  equal(await r.flushdb(), "OK", "FLUSHDB");
  const wanted = new Set(Array.from({ length: 600 }, (_, i) => k(`scan:${i}`)));
  const others = new Set(Array.from({ length: 60 }, (_, i) => k(`other:${i}`)));
  const pipe = r.pipeline();
  for (const key of [...wanted, ...others]) {
    pipe.set(key, "v");
  }
  replies(await pipe.exec(), "SETs before the scan");
  sameSet(await scanAll(r, { match: k("scan:*"), count: 37 }), wanted, "scanStream(match, count: 37)");
  const tens = new Set([...wanted].filter((key) => /:scan:1\d$/.test(key)));
  sameSet(await scanAll(r, { match: k("scan:1?"), count: 5 }), tens, "scanStream(match 'scan:1?')");
  sameSet(await scanAll(r, { count: 100 }), new Set([...wanted, ...others]), "scanStream without a pattern");
  sameSet(await scanAll(r, { match: k("nothing:*") }), new Set(), "scanStream matching nothing");
});

function runs(host, port) {
  const open = (options) => async () => {
    const r = new Redis({ host, port, ...options });
    const other = new Redis({ host, port, ...options });
    await ready(r, "connect");
    await ready(other, "connect a second client");
    const label = options.protocol || "default";
    const k = (name) => `iotx:${label}:${name}`;
    return [[r, other, k], () => [r, other].forEach((c) => c.disconnect())];
  };
  return [
    ["default", open({})],
    ["resp2", open({ protocol: 2 })],
  ];
}

SECTIONS.main("node ioredis_transactions_check.js [--keep-going] HOST PORT", runs, require("ioredis/package.json").version).catch(
  (error) => {
    console.error(`ioredis transactions check crashed: ${error.stack}`);
    process.exit(1);
  },
);
