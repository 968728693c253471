#!/usr/bin/env node
'use strict';
/**
 * Checks blink-client.js against a running Blink Store server.
 *
 * Usage: node test-client.js HOST PORT UNIX_SOCKET_PATH
 *
 * Runs every check over TCP and again over the Unix socket, then the failure cases.
 * Exits 1 naming the first failed check; prints "all checks passed" on success.
 */

const assert = require('node:assert/strict');
const net = require('node:net');
const path = require('node:path');
const { BlinkClient, BlinkError, BlinkConnectionError, parseAddress } = require(path.join(__dirname, 'blink-client.js'));

let checks = 0;

function equal(got, expected, what) {
  checks += 1;
  assert.deepEqual(got, expected, what);
}

function ok(condition, what) {
  checks += 1;
  assert.ok(condition, what);
}

/** `promiseOrFn` must reject with `type`; resolves to the error. */
async function rejects(type, promiseOrFn, what, messageStart) {
  let got;
  try {
    got = await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
  } catch (error) {
    ok(error instanceof type, `${what}: expected ${type.name}, got ${error && error.stack}`);
    if (messageStart !== undefined) {
      ok(error.message.startsWith(messageStart), `${what}: expected a message starting ${JSON.stringify(messageStart)}, got ${JSON.stringify(error.message)}`);
    }
    return error;
  }
  throw new assert.AssertionError({ message: `${what}: expected ${type.name}, got ${JSON.stringify(got)}` });
}

async function waitUntil(condition, what, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new assert.AssertionError({ message: `${what}: still not true after ${ms} ms` });
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  checks += 1;
}

const buf = (text) => Buffer.from(text);

async function basics(c, p) {
  equal(await c.ping(), true, 'ping');
  equal(await c.set(`${p}greeting`, 'hello world'), true, 'set a string');
  equal(await c.get(`${p}greeting`), buf('hello world'), 'get resolves to a Buffer');
  equal(await c.getString(`${p}greeting`), 'hello world', 'getString');
  equal(await c.get(`${p}missing`), null, 'get of a missing key');
  equal(await c.getString(`${p}missing`), null, 'getString of a missing key');
  equal(await c.set(buf(`${p}buffer-key`), buf('v')), true, 'set with a Buffer key');
  equal(await c.get(`${p}buffer-key`), buf('v'), 'Buffer and string keys are the same key');
  equal(await c.set(`${p}café`, 'crème brûlée'), true, 'set a UTF-8 key and value');
  equal(await c.getString(`${p}café`), 'crème brûlée', 'UTF-8 round trip');
  equal(await c.set(`${p}empty`, ''), true, 'set an empty value');
  equal(await c.get(`${p}empty`), Buffer.alloc(0), 'an empty value is not a missing one');
  equal(await c.set(`${p}spaces`, '  two  spaces  '), true, 'set a value with spaces');
  equal(await c.getString(`${p}spaces`), '  two  spaces  ', 'spaces are kept');
  equal(await c.set(`${p}u8`, new Uint8Array([1, 2, 3])), true, 'set a Uint8Array');
  equal(await c.get(`${p}u8`), Buffer.from([1, 2, 3]), 'a Uint8Array round-trips');
  equal(await c.delete(`${p}greeting`), true, 'delete an existing key');
  equal(await c.delete(`${p}greeting`), false, 'delete a missing key');
  equal(await c.get(`${p}greeting`), null, 'deleted');

  const before = await c.usage();
  ok(Number.isInteger(before) && before >= 0, `usage is an integer: ${before}`);
  await c.set(`${p}usage`, 'x'.repeat(100));
  equal((await c.usage()) - before, `${p}usage`.length + 100, 'usage grows by key and value');
  await c.delete(`${p}usage`);
  equal(await c.usage(), before, 'usage shrinks back');

  const info = await c.info();
  for (const name of ['keys', 'used_bytes', 'limit', 'hits', 'misses', 'connections', 'uptime']) {
    ok(Number.isInteger(info[name]), `info has an integer ${name}: ${JSON.stringify(info)}`);
  }
  ok(info.keys >= 1, `info counts keys: ${JSON.stringify(info)}`);
}

async function binaryValues(c, p) {
  const everyByte = Buffer.from([...Array(256).keys()].filter((b) => b !== 0x0a));
  equal(await c.set(`${p}binary`, everyByte), true, 'set every byte but LF');
  equal(await c.get(`${p}binary`), everyByte, 'every byte but LF round-trips');
  equal(await c.set(`${p}cr`, 'a\rb'), true, 'a CR inside a value');
  equal(await c.get(`${p}cr`), buf('a\rb'), 'a CR inside a value round-trips');
  const big = Buffer.alloc(1000000, Buffer.from([...Array(245).keys()].map((b) => b + 11)));
  equal(await c.set(`${p}big`, big), true, 'set a 1 MB value');
  ok((await c.get(`${p}big`)).equals(big), 'a 1 MB value round-trips');
  await c.delete(`${p}big`);

  await rejects(TypeError, c.set(`${p}lf`, 'line one\nline two'), 'a value with LF');
  await rejects(TypeError, c.set(`${p}lf`, buf('ends with LF\n')), 'a Buffer value with LF');
  await rejects(TypeError, c.set(`${p}crend`, 'ends with CR\r'), 'a value ending in CR');
  equal(await c.get(`${p}lf`), null, 'a refused value was never sent');
  for (const bad of ['', 'with space', 'tab\there', 'nul\0', 'del\x7f', 'new\nline']) {
    const key = bad === '' ? '' : p + bad;
    await rejects(TypeError, c.get(key), `key ${JSON.stringify(bad)}`);
    await rejects(TypeError, c.set(key, 'v'), `set key ${JSON.stringify(bad)}`);
  }
  await rejects(TypeError, c.set(`${p}k`, 42), 'a number value');
  await rejects(TypeError, c.get(null), 'a null key');
  await rejects(TypeError, c.expire(`${p}k`, '10'), 'seconds as a string');
  await rejects(TypeError, c.expire(`${p}k`, 1.5), 'fractional seconds');
  await rejects(TypeError, c.pipeline([['get', `${p}k`], ['nope']]), 'an unknown pipeline command');
  equal(await c.ping(), true, 'the connection is fine after refusals');
}

async function errors(c, p) {
  const error = await rejects(BlinkError, c.get('k'.repeat(2000)), 'a key over the server limit');
  ok(!(error instanceof BlinkConnectionError), 'a server error is not a connection error');
  ok(error instanceof Error && error.name === 'BlinkError', 'BlinkError extends Error');
  ok(error.message.includes('key too long'), `the server's text is the message: ${error.message}`);
  await rejects(BlinkError, c.set(`${p}huge`, Buffer.alloc(1024 * 1024 + 1, 120)), 'a value too large');
  equal(await c.ping(), true, 'the connection keeps working after ERROR');
}

async function ttls(c, p) {
  const k = `${p}ttl`;
  await c.set(k, 'v');
  equal(await c.ttl(k), -1, 'no expiry');
  equal(await c.expire(k, 100), true, 'expire');
  const ttl = await c.ttl(k);
  ok(ttl >= 98 && ttl <= 100, `ttl after expire 100: ${ttl}`);
  equal(await c.persist(k), true, 'persist');
  equal(await c.ttl(k), -1, 'persist removes the expiry');
  equal(await c.ttl(`${p}missing`), null, 'ttl of a missing key');
  equal(await c.expire(`${p}missing`, 10), false, 'expire of a missing key');
  equal(await c.persist(`${p}missing`), false, 'persist of a missing key');
  await c.expire(k, 50);
  await c.set(k, 'again');
  equal(await c.ttl(k), -1, 'a plain set clears the expiry');
  equal(await c.set(k, 'v', { ttl: 30 }), true, 'set with ttl');
  const ttl30 = await c.ttl(k);
  ok(ttl30 >= 28 && ttl30 <= 30, `ttl after set ttl 30: ${ttl30}`);
  equal(await c.expire(k, 0), true, 'expire 0');
  equal(await c.get(k), null, 'expire 0 deletes');
  await c.set(k, 'v');
  equal(await c.expire(k, -5), true, 'negative expire');
  equal(await c.get(k), null, 'negative expire deletes');
  await c.set(k, 'short-lived', { ttl: 1 });
  equal(await c.getString(k), 'short-lived', 'readable before it expires');
  await waitUntil(async () => (await c.get(k)) === null, 'a key with ttl 1 expires');
  equal(await c.ttl(k), null, 'an expired key is missing');
}

async function pipelines(c, p) {
  const results = await c.pipeline([
    ['set', `${p}pa`, buf('1')],
    ['set', `${p}pb`, 'two', { ttl: 60 }],
    ['get', `${p}pa`],
    ['getString', `${p}pb`],
    ['get', `${p}missing`],
    ['ttl', `${p}pb`],
    ['delete', `${p}pa`],
    ['delete', `${p}pa`],
    ['ping'],
    ['usage'],
    ['info'],
  ]);
  equal(results.length, 11, 'one result per command');
  equal(results.slice(0, 9), [true, true, buf('1'), 'two', null, 60, true, false, true], 'pipeline results');
  ok(Number.isInteger(results[9]), 'usage in a pipeline');
  ok(typeof results[10] === 'object' && Number.isInteger(results[10].keys), 'info in a pipeline');
  equal(await c.pipeline([]), [], 'an empty pipeline');

  await rejects(BlinkError, c.pipeline([['set', `${p}before`, '1'], ['get', 'k'.repeat(2000)], ['get', `${p}before`]]), 'an ERROR inside a pipeline rejects');
  equal(await c.getString(`${p}before`), '1', 'commands around the error ran');
  const mixed = await c.pipeline([['set', `${p}before`, '2'], ['get', 'k'.repeat(2000)], ['get', `${p}before`]], { throwOnError: false });
  equal(mixed[0], true, 'first result');
  ok(mixed[1] instanceof BlinkError, `the error in its place: ${mixed[1]}`);
  equal(mixed[2], buf('2'), 'the reply after the error');

  const sets = [];
  const gets = [];
  for (let i = 0; i < 1000; i += 1) {
    sets.push(['set', `${p}many:${i}`, String(i)]);
    gets.push(['getString', `${p}many:${i}`]);
  }
  const many = await c.pipeline([...sets, ...gets]);
  equal(many.slice(1000), [...Array(1000).keys()].map(String), '1000 pipelined GETs in order');

  // Megabytes each way in one pipeline.
  const chunk = Buffer.alloc(245 * 80, Buffer.from([...Array(245).keys()].map((b) => b + 11)));
  const big = [];
  for (let i = 0; i < 200; i += 1) big.push(['set', `${p}big:${i}`, chunk], ['get', `${p}big:${i}`]);
  const bigResults = await c.pipeline(big);
  ok(bigResults.filter((_, i) => i % 2 === 1).every((value) => value.equals(chunk)), 'a pipeline of 4 MB each way');
  await c.pipeline([...Array(200).keys()].map((i) => ['delete', `${p}big:${i}`]));

  // Calls made without awaiting each other are pipelined too, and answered in order.
  const concurrent = await Promise.all([...Array(200).keys()].map((i) => c.getString(`${p}many:${i}`)));
  equal(concurrent, [...Array(200).keys()].map(String), '200 concurrent GETs');
}

async function reconnects(c, p) {
  await c.set(`${p}r`, 'kept');
  // QUIT written straight to the socket: the server closes the connection, and the
  // GET written right behind it is never answered there.
  c._connection.socket.write('QUIT\n');
  equal(await c.getString(`${p}r`), 'kept', 'a request the server dropped is sent again');
  c._connection.socket.write('QUIT\n');
  equal(await c.pipeline([['getString', `${p}r`], ['ping']]), ['kept', true], 'a pipeline the server dropped is sent again');
  c._connection.socket.destroy();
  equal(await c.getString(`${p}r`), 'kept', 'a request after the socket was destroyed');
  const pending = c.getString(`${p}r`);
  c.close();
  equal(await pending, 'kept', 'close() waits for replies already asked for');
  equal(await c.getString(`${p}r`), 'kept', 'a request after close() reconnects');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function failures() {
  let port = await freePort();
  const down = new BlinkClient({ port, timeout: 2000 });
  await rejects(BlinkConnectionError, down.ping(), 'a closed port', `cannot connect to Blink Store at 127.0.0.1:${port}: `);
  await rejects(BlinkConnectionError, down.connect(), 'connect() to a closed port');
  const several = await Promise.allSettled([down.get('a'), down.get('b'), down.ping()]);
  ok(several.every((r) => r.status === 'rejected' && r.reason instanceof BlinkConnectionError), 'every queued request fails');
  const missing = '/nonexistent/blink.sock';
  await rejects(BlinkConnectionError, new BlinkClient({ path: missing }).ping(), 'a missing Unix socket', `cannot connect to Blink Store at ${missing}: `);
  ok(new BlinkConnectionError('x') instanceof BlinkError, 'connection errors are BlinkErrors');

  // A server that answers once, then goes away altogether: the client reconnects once,
  // then says it cannot connect.
  const sockets = [];
  const vanishing = net.createServer((socket) => {
    sockets.push(socket);
    socket.once('data', () => socket.write('PONG\n'));
  });
  await new Promise((resolve) => vanishing.listen(0, '127.0.0.1', resolve));
  port = vanishing.address().port;
  const c = new BlinkClient({ port });
  equal(await c.ping(), true, 'the stand-in server answers once');
  await new Promise((resolve) => {
    vanishing.close(resolve);
    for (const socket of sockets) socket.destroy();
  });
  await rejects(BlinkConnectionError, c.ping(), 'the server went away', `cannot connect to Blink Store at 127.0.0.1:${port}: `);

  // A server that accepts and never answers: a timeout, not a hang.
  const silentSockets = [];
  const silent = net.createServer((socket) => silentSockets.push(socket));
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const slow = new BlinkClient({ port: silent.address().port, timeout: 300 });
  await rejects(BlinkConnectionError, slow.ping(), 'a silent server', 'no reply from Blink Store at ');
  for (const socket of silentSockets) socket.destroy();
  silent.close();

  equal(parseAddress('10.0.0.1:7000'), { host: '10.0.0.1', port: 7000 }, 'parse host:port');
  equal(parseAddress('[::1]:7000'), { host: '::1', port: 7000 }, 'parse [v6]:port');
  await rejects(TypeError, () => parseAddress('localhost'), 'an address without a port');
}

async function fromEnv(host, port, socketPath) {
  equal(BlinkClient.fromEnv({}).address, '127.0.0.1:8765', 'the default address');
  const tcp = BlinkClient.fromEnv({ BLINK_ADDR: `${host}:${port}` });
  equal([tcp.host, tcp.port, tcp.path], [host, Number(port), undefined], 'BLINK_ADDR');
  equal(await tcp.ping(), true, 'ping via BLINK_ADDR');
  tcp.close();
  const unix = BlinkClient.fromEnv({ BLINK_ADDR: `${host}:${port}`, BLINK_SOCKET: socketPath });
  equal(unix.path, socketPath, 'BLINK_SOCKET wins over BLINK_ADDR');
  equal(await unix.ping(), true, 'ping via BLINK_SOCKET');
  unix.close();
}

async function main() {
  const [host, port, socketPath] = process.argv.slice(2);
  if (!socketPath) {
    console.error('usage: node test-client.js HOST PORT UNIX_SOCKET_PATH');
    process.exit(2);
  }
  let step = 'start';
  try {
    for (const [transport, options] of [['tcp', { host, port: Number(port) }], ['unix', { path: socketPath }]]) {
      const c = new BlinkClient(options);
      for (const group of [basics, binaryValues, errors, ttls, pipelines, reconnects]) {
        step = `${transport}: ${group.name}`;
        await group(c, `js:${transport}:`);
      }
      c.close();
    }
    step = 'failures';
    await failures();
    step = 'fromEnv';
    await fromEnv(host, port, socketPath);
  } catch (error) {
    console.error(`FAILED in ${step}: ${error.stack || error}`);
    process.exit(1);
  }
  console.log(`all checks passed (${checks} checks)`);
}

main();
