#!/usr/bin/env node
// Acceptance check with the real ioredis client.
//
// Usage: node ioredis_check.js [--keep-going] HOST PORT
//
// Runs the whole check with ioredis's default settings (its RESP3 handshake and its
// ready check through INFO), with enableReadyCheck: false, and with protocol: 2 and no
// ready check (what a client behind twemproxy uses). Every check asserts Redis's
// documented behaviour. The server is expected to have a single database and to be used
// by nobody else while the check runs (it calls FLUSHDB and FLUSHALL).
//
// Exits 1 with a message naming the run and the step on the first failed check (with
// --keep-going: after every step has run, listing each failed one); prints one summary
// line on success. ioredis is loaded from the node_modules beside this file:
// npm install --prefix tests/clients ioredis
"use strict";

let ioredis;
try {
  ioredis = require("ioredis");
} catch (error) {
  console.error(
    "ioredis is missing: .ci/test installs it (npm install --prefix tests/clients ioredis)",
  );
  process.exit(1);
}
const Redis = ioredis.Redis || ioredis.default || ioredis;
const net = require("net");

class CheckFailed extends Error {}

let checks = 0;

function check(condition, message) {
  checks += 1;
  if (!condition) {
    throw new CheckFailed(message);
  }
}

// A short printable form of a reply, for failure messages.
function show(value) {
  const text = JSON.stringify(value, (_, v) => {
    if (v instanceof Error) {
      return `${v.constructor.name}(${v.message})`;
    }
    if (v && v.type === "Buffer" && Array.isArray(v.data)) {
      return `<Buffer ${Buffer.from(v.data).toString("hex")}>`;
    }
    return v;
  });
  return text !== undefined && text.length > 600 ? `${text.slice(0, 600)}...` : text;
}

function same(a, b) {
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) {
    return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((x, i) => same(x, b[i]))
    );
  }
  return a === b;
}

function equal(got, expected, what) {
  check(same(got, expected), `${what}: expected ${show(expected)}, got ${show(got)}`);
}

function between(got, low, high, what) {
  check(
    Number.isInteger(got) && got >= low && got <= high,
    `${what}: expected an integer in [${low}, ${high}], got ${show(got)}`,
  );
}

async function expectError(promise, expected, what, prefix = false) {
  let got;
  try {
    got = await promise;
  } catch (error) {
    const text = error.message;
    if (prefix) {
      check(
        text.startsWith(expected),
        `${what}: expected an error starting ${show(expected)}, got ${show(text)}`,
      );
    } else {
      equal(text, expected, `${what} error`);
    }
    return;
  }
  throw new CheckFailed(`${what}: expected the error ${show(expected)}, got the reply ${show(got)}`);
}

// A RESP2 flat key/value array or a RESP3 map, as a plain object with text keys.
function pairs(reply) {
  if (reply instanceof Map) {
    return Object.fromEntries([...reply].map(([k, v]) => [String(k), v]));
  }
  if (Array.isArray(reply)) {
    check(reply.length % 2 === 0, `expected pairs, got ${show(reply)}`);
    const out = {};
    for (let i = 0; i < reply.length; i += 2) {
      out[String(reply[i])] = reply[i + 1];
    }
    return out;
  }
  check(reply !== null && typeof reply === "object", `expected pairs, got ${show(reply)}`);
  return reply;
}

// INFO text as { field: value } (keyspace lines stay text).
function parseInfo(text) {
  check(typeof text === "string", `INFO replied ${show(text)}`);
  const out = {};
  for (const line of text.split("\r\n")) {
    if (!line || line.startsWith("#")) {
      continue;
    }
    const colon = line.indexOf(":");
    if (colon > 0) {
      out[line.slice(0, colon)] = line.slice(colon + 1);
    }
  }
  return out;
}

function infoInt(info, field, what) {
  const value = info[field];
  check(value !== undefined && /^-?\d+$/.test(value), `${what} ${field}: got ${show(value)}`);
  return Number(value);
}

function versionAtLeast(text, major, minor) {
  const [a, b] = String(text)
    .split(".")
    .map((part) => Number.parseInt(part, 10) || 0);
  return a > major || (a === major && b >= minor);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => Date.now();

async function waitGone(r, key, what, deadlineMs = 5000) {
  const deadline = now() + deadlineMs;
  while ((await r.exists(key)) !== 0) {
    if (now() > deadline) {
      throw new CheckFailed(`${what}: key still there after ${deadlineMs} ms`);
    }
    await sleep(20);
  }
}

// Resolves once `r` is ready; fails after a deadline with the last error ioredis saw.
function ready(r, what, deadlineMs = 10000) {
  if (r.status === "ready") {
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    let lastError = null;
    const onError = (error) => {
      lastError = error;
    };
    const timer = setTimeout(() => {
      r.off("error", onError);
      reject(
        new CheckFailed(
          `${what}: ioredis not ready after ${deadlineMs} ms (status ${r.status}, last error: ${
            lastError ? lastError.message : "none"
          })`,
        ),
      );
    }, deadlineMs);
    r.on("error", onError);
    r.once("ready", () => {
      clearTimeout(timer);
      r.off("error", onError);
      resolve();
    });
  });
}

function waitEnd(r, what, deadlineMs = 5000) {
  if (r.status === "end") {
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new CheckFailed(`${what}: connection still open after ${deadlineMs} ms`)),
      deadlineMs,
    );
    r.once("end", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

// A client whose errors surface through its commands (and `ready`), not as unhandled
// "error" events.
function connect(options) {
  const r = new Redis(options);
  r.on("error", () => {});
  return r;
}

const EVERY_BYTE = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const SECTIONS = [];
function section(name, body) {
  SECTIONS.push([name, body]);
}

section("PING / ECHO", async (r) => {
  equal(await r.ping(), "PONG", "PING");
  equal(await r.ping("hello there"), "hello there", "PING msg");
  equal(await r.echo("hi"), "hi", "ECHO");
  equal(await r.echo(""), "", "ECHO empty");
});

section("SELECT", async (r) => {
  equal(await r.select(0), "OK", "SELECT 0");
  await expectError(r.select(1), "ERR DB index is out of range", "SELECT 1");
});

section("FLUSHDB / DBSIZE", async (r) => {
  equal(await r.flushdb(), "OK", "FLUSHDB");
  equal(await r.dbsize(), 0, "DBSIZE after FLUSHDB");
});

section("SET / GET", async (r, k) => {
  equal(await r.set(k("a"), "1"), "OK", "SET");
  equal(await r.get(k("a")), "1", "GET");
  equal(await r.get(k("missing")), null, "GET missing");
  equal(await r.set(k("a"), "2"), "OK", "SET overwrite");
  equal(await r.get(k("a")), "2", "GET after overwrite");
  equal(await r.set(k("empty"), ""), "OK", "SET empty value");
  equal(await r.get(k("empty")), "", "GET empty value");
});

section("SET EX / PX / EXAT / PXAT", async (r, k) => {
  equal(await r.set(k("ex"), "v", "EX", 100), "OK", "SET EX");
  between(await r.ttl(k("ex")), 98, 100, "TTL after SET EX 100");
  equal(await r.set(k("px"), "v", "PX", 100000), "OK", "SET PX");
  between(await r.pttl(k("px")), 90000, 100000, "PTTL after SET PX 100000");
  equal(await r.set(k("exat"), "v", "EXAT", Math.floor(now() / 1000) + 200), "OK", "SET EXAT");
  between(await r.ttl(k("exat")), 190, 200, "TTL after SET EXAT now+200");
  equal(await r.set(k("pxat"), "v", "PXAT", now() + 300000), "OK", "SET PXAT");
  between(await r.pttl(k("pxat")), 290000, 300000, "PTTL after SET PXAT now+300000");
  equal(await r.set(k("ex"), "plain"), "OK", "SET without options");
  equal(await r.ttl(k("ex")), -1, "SET without KEEPTTL discards the TTL");
  await expectError(r.set(k("bad"), "v", "EX", 0), "ERR invalid expire time in 'set' command", "SET EX 0");
  await expectError(
    r.call("SET", k("bad"), "v", "EX", "soon"),
    "ERR value is not an integer or out of range",
    "SET EX soon",
  );
  await expectError(r.call("SET", k("bad"), "v", "NX", "XX"), "ERR syntax error", "SET NX XX");
  await expectError(r.call("SET", k("bad"), "v", "EX", 10, "PX", 100), "ERR syntax error", "SET EX PX");
  equal(await r.exists(k("bad")), 0, "failed SETs store nothing");
});

section("SET NX / XX / KEEPTTL / GET", async (r, k) => {
  equal(await r.set(k("nx"), "first", "NX"), "OK", "SET NX on a new key");
  equal(await r.set(k("nx"), "second", "NX"), null, "SET NX on an existing key");
  equal(await r.get(k("nx")), "first", "value after refused SET NX");
  equal(await r.set(k("xx"), "v", "XX"), null, "SET XX on a missing key");
  equal(await r.exists(k("xx")), 0, "refused SET XX stores nothing");
  equal(await r.set(k("nx"), "third", "XX"), "OK", "SET XX on an existing key");
  equal(await r.get(k("nx")), "third", "value after SET XX");
  equal(await r.set(k("keep"), "v", "EX", 100), "OK", "SET EX before KEEPTTL");
  equal(await r.set(k("keep"), "w", "KEEPTTL"), "OK", "SET KEEPTTL");
  between(await r.ttl(k("keep")), 98, 100, "TTL kept by KEEPTTL");
  equal(await r.set(k("getopt"), "new", "GET"), null, "SET GET on a missing key");
  equal(await r.set(k("getopt"), "newer", "GET"), "new", "SET GET returns the old value");
  equal(await r.get(k("getopt")), "newer", "SET GET stores the new value");
  equal(await r.set(k("getopt"), "ignored", "NX", "GET"), "newer", "SET NX GET on an existing key");
  equal(await r.get(k("getopt")), "newer", "SET NX GET did not overwrite");
  equal(await r.set(k("getopt"), "x", "EX", 50, "XX", "GET"), "newer", "SET EX XX GET");
  between(await r.ttl(k("getopt")), 48, 50, "TTL after SET EX 50 XX GET");
});

section("SETEX / PSETEX / SETNX", async (r, k) => {
  equal(await r.setex(k("setex"), 100, "v"), "OK", "SETEX");
  between(await r.ttl(k("setex")), 98, 100, "TTL after SETEX 100");
  equal(await r.get(k("setex")), "v", "GET after SETEX");
  equal(await r.psetex(k("psetex"), 100000, "v"), "OK", "PSETEX");
  between(await r.pttl(k("psetex")), 90000, 100000, "PTTL after PSETEX 100000");
  await expectError(
    r.setex(k("setex0"), 0, "v"),
    "ERR invalid expire time in 'setex' command",
    "SETEX 0",
  );
  equal(await r.setnx(k("setnx"), "1"), 1, "SETNX on a new key");
  equal(await r.setnx(k("setnx"), "2"), 0, "SETNX on an existing key");
  equal(await r.get(k("setnx")), "1", "value after refused SETNX");
});

section("GETDEL / GETEX", async (r, k) => {
  await r.set(k("gd"), "v");
  equal(await r.getdel(k("gd")), "v", "GETDEL");
  equal(await r.exists(k("gd")), 0, "GETDEL deletes");
  equal(await r.getdel(k("gd")), null, "GETDEL missing");
  await r.set(k("ge"), "v");
  equal(await r.getex(k("ge")), "v", "GETEX without options");
  equal(await r.ttl(k("ge")), -1, "GETEX without options leaves no TTL");
  equal(await r.getex(k("ge"), "EX", 100), "v", "GETEX EX");
  between(await r.ttl(k("ge")), 98, 100, "TTL after GETEX EX 100");
  equal(await r.getex(k("ge"), "PX", 200000), "v", "GETEX PX");
  between(await r.pttl(k("ge")), 190000, 200000, "PTTL after GETEX PX 200000");
  equal(await r.getex(k("ge"), "EXAT", Math.floor(now() / 1000) + 300), "v", "GETEX EXAT");
  between(await r.ttl(k("ge")), 290, 300, "TTL after GETEX EXAT now+300");
  equal(await r.getex(k("ge"), "PXAT", now() + 400000), "v", "GETEX PXAT");
  between(await r.pttl(k("ge")), 390000, 400000, "PTTL after GETEX PXAT now+400000");
  equal(await r.getex(k("ge"), "PERSIST"), "v", "GETEX PERSIST");
  equal(await r.ttl(k("ge")), -1, "TTL after GETEX PERSIST");
  equal(await r.getex(k("nothing"), "EX", 10), null, "GETEX missing");
});

section("MSET / MGET", async (r, k) => {
  equal(await r.mset({ [k("m1")]: "one", [k("m2")]: "two", [k("m3")]: "three" }), "OK", "MSET");
  equal(
    await r.mget(k("m1"), k("missing"), k("m3"), k("m2")),
    ["one", null, "three", "two"],
    "MGET",
  );
  equal(await r.mget(k("m1")), ["one"], "MGET one key");
  await expectError(
    r.call("MSET", k("m1"), "v", k("m2")),
    "ERR wrong number of arguments for 'mset' command",
    "MSET odd arguments",
  );
});

section("EXISTS / DEL / UNLINK", async (r, k) => {
  equal(await r.exists(k("m1"), k("m1"), k("missing"), k("m2"), k("m1")), 4, "EXISTS counts duplicates");
  equal(await r.exists(k("missing")), 0, "EXISTS missing");
  equal(await r.del(k("m1"), k("m2"), k("missing"), k("m1")), 2, "DEL many keys");
  equal(await r.exists(k("m1"), k("m2")), 0, "DEL removed the keys");
  await r.mset(k("u1"), "1", k("u2"), "2", k("u3"), "3");
  equal(await r.unlink(k("u1"), k("u2"), k("u3"), k("u4")), 3, "UNLINK many keys");
  equal(await r.exists(k("u1"), k("u2"), k("u3")), 0, "UNLINK removed the keys");
  equal(await r.del(k("u1")), 0, "DEL missing");
});

section("EXPIRE / PEXPIRE / EXPIREAT / TTL / PTTL / PERSIST", async (r, k) => {
  await r.set(k("e"), "v");
  equal(await r.ttl(k("e")), -1, "TTL without expiry");
  equal(await r.pttl(k("e")), -1, "PTTL without expiry");
  equal(await r.ttl(k("missing")), -2, "TTL missing");
  equal(await r.pttl(k("missing")), -2, "PTTL missing");
  equal(await r.expire(k("e"), 100), 1, "EXPIRE");
  between(await r.ttl(k("e")), 98, 100, "TTL after EXPIRE 100");
  equal(await r.pexpire(k("e"), 50000), 1, "PEXPIRE");
  between(await r.pttl(k("e")), 40000, 50000, "PTTL after PEXPIRE 50000");
  equal(await r.expireat(k("e"), Math.floor(now() / 1000) + 500), 1, "EXPIREAT");
  between(await r.ttl(k("e")), 490, 500, "TTL after EXPIREAT now+500");
  equal(await r.persist(k("e")), 1, "PERSIST");
  equal(await r.ttl(k("e")), -1, "TTL after PERSIST");
  equal(await r.persist(k("e")), 0, "PERSIST without a TTL");
  equal(await r.persist(k("missing")), 0, "PERSIST missing");
  equal(await r.expire(k("missing"), 100), 0, "EXPIRE missing");
  equal(await r.pexpire(k("missing"), 100), 0, "PEXPIRE missing");
  equal(await r.expireat(k("missing"), Math.floor(now() / 1000) + 100), 0, "EXPIREAT missing");
  equal(await r.expire(k("e"), -1), 1, "EXPIRE with a negative time");
  equal(await r.exists(k("e")), 0, "EXPIRE with a negative time deletes the key");
  await r.set(k("e2"), "v");
  equal(await r.expireat(k("e2"), Math.floor(now() / 1000) - 10), 1, "EXPIREAT in the past");
  equal(await r.get(k("e2")), null, "EXPIREAT in the past deletes the key");
  await expectError(
    r.call("EXPIRE", k("e2"), "soon"),
    "ERR value is not an integer or out of range",
    "EXPIRE soon",
  );
});

section("a key with a 100 ms TTL disappears", async (r, k) => {
  const before = infoInt(parseInfo(await r.info("stats")), "expired_keys", "INFO stats");
  equal(await r.set(k("short"), "v", "PX", 100), "OK", "SET PX 100");
  const pttl = await r.pttl(k("short"));
  check(pttl === -2 || (pttl >= 0 && pttl <= 100), `PTTL right after SET PX 100: got ${show(pttl)}`);
  await waitGone(r, k("short"), "SET PX 100");
  equal(await r.get(k("short")), null, "GET after the TTL passed");
  equal(await r.ttl(k("short")), -2, "TTL after the TTL passed");
  await r.setex(k("short2"), 1, "v");
  await r.pexpire(k("short2"), 100);
  await waitGone(r, k("short2"), "PEXPIRE 100");
  const after = infoInt(parseInfo(await r.info("stats")), "expired_keys", "INFO stats");
  check(after >= before + 2, `INFO stats expired_keys: expected at least ${before + 2}, got ${after}`);
});

section("INCR / DECR / INCRBY / DECRBY", async (r, k) => {
  const notInteger = "ERR value is not an integer or out of range";
  const overflow = "ERR increment or decrement would overflow";
  equal(await r.incr(k("n")), 1, "INCR missing");
  equal(await r.incr(k("n")), 2, "INCR");
  equal(await r.incrby(k("n"), 40), 42, "INCRBY");
  equal(await r.decr(k("n")), 41, "DECR");
  equal(await r.decrby(k("n"), 50), -9, "DECRBY");
  equal(await r.incrby(k("n"), -1), -10, "INCRBY negative");
  equal(await r.get(k("n")), "-10", "GET after INCR family");
  equal(await r.decr(k("n2")), -1, "DECR missing");
  await r.set(k("text"), "abc");
  await expectError(r.incr(k("text")), notInteger, "INCR on text");
  await expectError(r.decr(k("text")), notInteger, "DECR on text");
  await r.set(k("float"), "1.5");
  await expectError(r.incrby(k("float"), 1), notInteger, "INCRBY on 1.5");
  await r.set(k("spaced"), " 1");
  await expectError(r.incr(k("spaced")), notInteger, "INCR on ' 1'");
  await expectError(r.call("INCRBY", k("n"), "x"), notInteger, "INCRBY x");
  await expectError(r.call("DECRBY", k("n"), "1.0"), notInteger, "DECRBY 1.0");
  await r.set(k("max"), "9223372036854775807");
  await expectError(r.incr(k("max")), overflow, "INCR at i64::MAX");
  equal(await r.get(k("max")), "9223372036854775807", "value after overflowing INCR");
  await r.set(k("min"), "-9223372036854775808");
  await expectError(r.decr(k("min")), overflow, "DECR at i64::MIN");
  await expectError(r.incrby(k("max"), 1), overflow, "INCRBY at i64::MAX");
  await r.set(k("ttln"), "5", "EX", 100);
  equal(await r.incr(k("ttln")), 6, "INCR on a key with a TTL");
  between(await r.ttl(k("ttln")), 98, 100, "INCR keeps the TTL");
});

section("APPEND / STRLEN", async (r, k) => {
  equal(await r.append(k("ap"), "Hello"), 5, "APPEND to a missing key");
  equal(await r.append(k("ap"), " World"), 11, "APPEND");
  equal(await r.get(k("ap")), "Hello World", "GET after APPEND");
  equal(await r.strlen(k("ap")), 11, "STRLEN");
  equal(await r.strlen(k("missing")), 0, "STRLEN missing");
  await r.set(k("apttl"), "a", "EX", 100);
  equal(await r.append(k("apttl"), "b"), 2, "APPEND on a key with a TTL");
  between(await r.ttl(k("apttl")), 98, 100, "APPEND keeps the TTL");
});

section("binary keys and values (Buffer)", async (r, k) => {
  const binaryKey = Buffer.concat([Buffer.from(k("bin")), Buffer.from([0, 255, 13, 10, 32, 1, 0x80])]);
  const crlfNul = Buffer.from([13, 10, 0]);
  equal(await r.set(binaryKey, EVERY_BYTE), "OK", "SET binary");
  equal(await r.getBuffer(binaryKey), EVERY_BYTE, "getBuffer every byte 0..255");
  equal(await r.strlen(binaryKey), 256, "STRLEN of every byte");
  equal(await r.exists(binaryKey), 1, "EXISTS binary key");
  equal(await r.append(binaryKey, crlfNul), 259, "APPEND binary");
  const appended = Buffer.concat([EVERY_BYTE, crlfNul]);
  equal(await r.getBuffer(binaryKey), appended, "getBuffer after binary APPEND");
  const otherKey = Buffer.from([0xfe, 0xfd, 0, 0x20, 0x09, 0x6b]);
  const reversed = Buffer.from(EVERY_BYTE).reverse();
  const nul = Buffer.from([0]);
  equal(await r.mset(otherKey, reversed, nul, nul), "OK", "MSET binary");
  equal(await r.mgetBuffer(otherKey, nul, binaryKey), [reversed, nul, appended], "mgetBuffer binary");
  equal(await r.echoBuffer(EVERY_BYTE), EVERY_BYTE, "echoBuffer every byte");
  equal(await r.getdelBuffer(otherKey), reversed, "getdelBuffer binary");
  equal(await r.getBuffer(otherKey), null, "getBuffer after GETDEL");
  equal(await r.setBuffer(nul, EVERY_BYTE, "GET"), nul, "setBuffer GET returns the old value");
  equal(await r.getexBuffer(nul, "EX", 100), EVERY_BYTE, "getexBuffer");
  equal(await r.del(binaryKey, nul), 2, "DEL binary keys");
  const big = Buffer.alloc(1 << 19);
  for (let i = 0; i < big.length; i += 1) {
    big[i] = (i * 7919 + 13) % 256;
  }
  equal(await r.set(k("big"), big), "OK", "SET 512 KiB");
  check(big.equals(await r.getBuffer(k("big"))), "getBuffer 512 KiB: value differs");
  equal(await r.del(k("big")), 1, "DEL 512 KiB");
});

section("pipeline", async (r, k) => {
  const n = 200;
  const pipe = r.pipeline();
  for (let i = 0; i < n; i += 1) {
    pipe.set(k(`p${i}`), `value-${i}`);
  }
  for (let i = 0; i < n; i += 1) {
    pipe.get(k(`p${i}`));
  }
  const some = [];
  for (let i = 0; i < n; i += 10) {
    some.push(i);
  }
  pipe.mget(some.map((i) => k(`p${i}`)));
  pipe.incr(k("pn"));
  pipe.incrby(k("pn"), 9);
  pipe.exists(...Array.from({ length: n }, (_, i) => k(`p${i}`)));
  pipe.expire(k("p0"), 100);
  pipe.ttl(k("p0"));
  pipe.set(k("pbin"), EVERY_BYTE);
  pipe.getBuffer(k("pbin"));
  pipe.ping();
  pipe.del(...Array.from({ length: n }, (_, i) => k(`p${i}`)));
  pipe.get(k("p1"));
  pipe.set(k("ptext"), "text");
  pipe.incr(k("ptext"));
  pipe.call("NOSUCHCOMMAND", "x");
  pipe.echo("after");
  const results = await pipe.exec();
  equal(results.length, 2 * n + 15, "pipeline reply count");
  const errors = results.map(([error]) => error);
  const replies = results.map(([, reply]) => reply);
  const last = results.length;
  const firstError = errors.findIndex((error, i) => i < last - 3 && error);
  check(firstError === -1, `pipeline command #${firstError} failed: ${show(errors[firstError])}`);
  equal(replies.slice(0, n), new Array(n).fill("OK"), "pipeline SET replies");
  equal(
    replies.slice(n, 2 * n),
    Array.from({ length: n }, (_, i) => `value-${i}`),
    "pipeline GET replies",
  );
  const rest = replies.slice(2 * n);
  equal(rest[0], some.map((i) => `value-${i}`), "pipeline MGET");
  equal(rest.slice(1, 3), [1, 10], "pipeline INCR / INCRBY");
  equal(rest[3], n, "pipeline EXISTS");
  equal(rest[4], 1, "pipeline EXPIRE");
  between(rest[5], 98, 100, "pipeline TTL");
  equal(rest.slice(6, 9), ["OK", EVERY_BYTE, "PONG"], "pipeline binary SET / getBuffer and PING");
  equal(rest.slice(9, 12), [n, null, "OK"], "pipeline DEL / GET / SET");
  check(
    errors[last - 3] && errors[last - 3].message === "ERR value is not an integer or out of range",
    `pipeline INCR on text gave ${show(errors[last - 3])}`,
  );
  check(
    errors[last - 2] && errors[last - 2].message.startsWith("ERR unknown command 'NOSUCHCOMMAND'"),
    `pipeline unknown command gave ${show(errors[last - 2])}`,
  );
  equal(results[last - 1], [null, "after"], "pipeline ECHO after the errors");
});

section("DBSIZE / INFO keyspace", async (r, k) => {
  equal(await r.flushdb(), "OK", "FLUSHDB");
  let info = parseInfo(await r.info("keyspace"));
  check(!("db0" in info), `INFO keyspace of an empty database has a db0 line: ${show(info)}`);
  await r.set(k("d1"), "1");
  await r.set(k("d2"), "2", "EX", 1000);
  await r.set(k("d3"), "3", "PX", 2000000);
  await r.set(k("d4"), "4");
  equal(await r.dbsize(), 4, "DBSIZE");
  info = parseInfo(await r.info("keyspace"));
  const line = info.db0;
  check(
    typeof line === "string" && /^keys=4,expires=2,avg_ttl=\d+/.test(line),
    `INFO keyspace db0: expected keys=4,expires=2,avg_ttl=..., got ${show(line)}`,
  );
});

section("INFO", async (r, k) => {
  const everything = parseInfo(await r.info());
  for (const field of [
    "redis_version",
    "connected_clients",
    "used_memory",
    "maxmemory",
    "keyspace_hits",
    "keyspace_misses",
    "evicted_keys",
    "expired_keys",
  ]) {
    check(field in everything, `INFO has no ${field}`);
  }
  const server = parseInfo(await r.info("server"));
  check("redis_version" in server, `INFO server has no redis_version: ${show(Object.keys(server))}`);
  const clients = parseInfo(await r.info("clients"));
  check(infoInt(clients, "connected_clients", "INFO clients") >= 1, "INFO clients connected_clients < 1");
  const memory = parseInfo(await r.info("memory"));
  for (const field of ["used_memory", "maxmemory"]) {
    check(infoInt(memory, field, "INFO memory") >= 0, `INFO memory ${field} < 0`);
  }
  const stats = parseInfo(await r.info("stats"));
  for (const field of ["keyspace_hits", "keyspace_misses", "evicted_keys", "expired_keys"]) {
    check(infoInt(stats, field, "INFO stats") >= 0, `INFO stats ${field} < 0`);
  }
  await r.get(k("d1"));
  await r.get(k("missing"));
  const after = parseInfo(await r.info("stats"));
  check(
    Number(after.keyspace_hits) >= Number(stats.keyspace_hits) + 1,
    `keyspace_hits did not grow on a hit: ${stats.keyspace_hits} -> ${after.keyspace_hits}`,
  );
  check(
    Number(after.keyspace_misses) >= Number(stats.keyspace_misses) + 1,
    `keyspace_misses did not grow on a miss: ${stats.keyspace_misses} -> ${after.keyspace_misses}`,
  );
});

section("CONFIG GET", async (r) => {
  const config = pairs(await r.config("GET", "maxmemory"));
  check("maxmemory" in config, `CONFIG GET maxmemory: ${show(config)}`);
  const memory = parseInfo(await r.info("memory"));
  equal(String(config.maxmemory), memory.maxmemory, "CONFIG GET maxmemory equals INFO memory maxmemory");
  pairs(await r.config("GET", "*"));
  pairs(await r.config("GET", "max*"));
});

section("COMMAND / COMMAND DOCS", async (r) => {
  check(Array.isArray(await r.command()), "COMMAND did not reply with an array");
  const docs = await r.command("DOCS");
  check(docs !== null && typeof docs === "object", `COMMAND DOCS replied ${show(docs)}`);
  const get = await r.command("DOCS", "get");
  check(get !== null && typeof get === "object", `COMMAND DOCS get replied ${show(get)}`);
});

section("CLIENT", async (r, k, options) => {
  // A connection of its own: ioredis's handshake may have named the shared one.
  const c = connect(options);
  try {
    await ready(c, "second connection");
    equal(await c.client("GETNAME"), null, "CLIENT GETNAME before SETNAME");
    equal(await c.client("SETNAME", "checker-1"), "OK", "CLIENT SETNAME");
    equal(await c.client("GETNAME"), "checker-1", "CLIENT GETNAME");
    await expectError(
      c.client("SETNAME", "with space"),
      "ERR Client names cannot contain spaces, newlines or special characters.",
      "CLIENT SETNAME with a space",
    );
    const id = await c.client("ID");
    check(Number.isInteger(id) && id > 0, `CLIENT ID: got ${show(id)}`);
    equal(await c.client("ID"), id, "CLIENT ID twice on one connection");
    const otherId = await r.client("ID");
    check(Number.isInteger(otherId) && otherId !== id, `CLIENT ID of another connection: ${otherId}, ${id}`);
    const version = parseInfo(await c.info("server")).redis_version;
    for (const [attr, value] of [
      ["LIB-NAME", "checker"],
      ["LIB-VER", "1.2.3"],
    ]) {
      if (versionAtLeast(version, 7, 2)) {
        equal(await c.client("SETINFO", attr, value), "OK", `CLIENT SETINFO ${attr}`);
      } else {
        // Older servers, which report an older redis_version, lack SETINFO.
        await expectError(c.client("SETINFO", attr, value), "ERR unknown subcommand", `CLIENT SETINFO ${attr}`, true);
      }
    }
  } finally {
    c.disconnect();
  }
});

section("HELLO", async (r, k, options) => {
  const c = connect({ ...options, protocol: 2, enableReadyCheck: false });
  try {
    await ready(c, "RESP2 connection");
    const hello2 = pairs(await c.call("HELLO", "2"));
    equal(hello2.proto, 2, "HELLO 2 proto");
    for (const field of ["server", "version", "id", "mode", "role"]) {
      check(field in hello2, `HELLO 2 reply has no ${field}: ${show(hello2)}`);
    }
    await expectError(c.call("HELLO", "4"), "NOPROTO", "HELLO 4", true);
    equal(await c.ping(), "PONG", "PING after HELLO 2");
  } finally {
    c.disconnect();
  }
  if (options.protocol !== 2) {
    // ioredis speaks RESP3 here: HELLO 3 keeps it there.
    const hello3 = pairs(await r.call("HELLO", "3"));
    equal(hello3.proto, 3, "HELLO 3 proto");
    equal(await r.get(k("missing")), null, "GET missing after HELLO 3");
  }
});

section("client mistakes", async (r) => {
  await expectError(r.call("GET"), "ERR wrong number of arguments for 'get' command", "GET");
  await expectError(r.call("GET", "a", "b"), "ERR wrong number of arguments for 'get' command", "GET a b");
  await expectError(r.call("SET", "a"), "ERR wrong number of arguments for 'set' command", "SET a");
  await expectError(r.call("DEL"), "ERR wrong number of arguments for 'del' command", "DEL");
  await expectError(r.call("foo"), "ERR unknown command 'foo', with args beginning with: ", "foo");
  await expectError(
    r.call("foo", "bar", "baz"),
    "ERR unknown command 'foo', with args beginning with: 'bar' 'baz' ",
    "foo bar baz",
  );
  equal(await r.ping(), "PONG", "PING after errors");
});

section("QUIT", async (r, k, options) => {
  const c = connect(options);
  await ready(c, "connection to quit");
  const ended = waitEnd(c, "QUIT");
  equal(await c.quit(), "OK", "QUIT");
  await ended;
  equal(await r.ping(), "PONG", "PING on another connection after QUIT");
  // The server itself closes the connection after +OK.
  const socket = net.connect(options.port, options.host);
  const bytes = await new Promise((resolve, reject) => {
    const chunks = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new CheckFailed("raw QUIT: connection still open after 5000 ms"));
    }, 5000);
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("end", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString("latin1"));
    });
    socket.write("*1\r\n$4\r\nQUIT\r\n");
  });
  equal(bytes, "+OK\r\n", "raw QUIT reply before the close");
});

section("FLUSHALL", async (r, k) => {
  await r.mset(k("f1"), "1", k("f2"), "2");
  equal(await r.flushall(), "OK", "FLUSHALL");
  equal(await r.dbsize(), 0, "DBSIZE after FLUSHALL");
  equal(await r.get(k("f1")), null, "GET after FLUSHALL");
});

async function run(label, options, keepGoing, failures) {
  const k = (name) => `io:${label}:${name}`;
  const r = connect(options);
  try {
    try {
      await ready(r, "connect");
    } catch (error) {
      failures.push(`ioredis FAILED [${label}] at step 'connect': ${error.message}`);
      console.error(failures[failures.length - 1]);
      return;
    }
    for (const [name, body] of SECTIONS) {
      try {
        await body(r, k, options);
        continue;
      } catch (error) {
        const what = error instanceof CheckFailed ? error.message : `${error.constructor.name}: ${error.message}`;
        failures.push(`ioredis FAILED [${label}] at step '${name}': ${what}`);
        console.error(failures[failures.length - 1]);
        if (!(error instanceof CheckFailed) && !keepGoing) {
          console.error(error.stack);
        }
      }
      if (!keepGoing) {
        return;
      }
    }
  } finally {
    r.disconnect();
  }
}

async function main() {
  let args = process.argv.slice(2);
  const keepGoing = args.includes("--keep-going");
  args = args.filter((arg) => arg !== "--keep-going");
  if (args.length !== 2) {
    console.error("usage: node ioredis_check.js [--keep-going] HOST PORT");
    process.exit(2);
  }
  const [host, portText] = args;
  const port = Number(portText);
  const runs = [
    ["default", { host, port }],
    ["no-ready-check", { host, port, enableReadyCheck: false }],
    ["resp2-no-ready-check", { host, port, protocol: 2, enableReadyCheck: false }],
  ];
  const failures = [];
  for (const [label, options] of runs) {
    await run(label, options, keepGoing, failures);
    if (failures.length > 0 && !keepGoing) {
      process.exit(1);
    }
  }
  if (failures.length > 0) {
    console.error(`ioredis: ${failures.length} failed steps`);
    process.exit(1);
  }
  const version = require("ioredis/package.json").version;
  console.log(
    `ioredis ${version}: all checks passed in ${runs.length} runs (${runs
      .map(([label]) => label)
      .join(", ")}), ${checks} checks`,
  );
}

main().catch((error) => {
  console.error(`ioredis check crashed: ${error.stack}`);
  process.exit(1);
});
