#!/usr/bin/env node
'use strict';
/**
 * A tiny HTTP service that keeps the results of a slow lookup in Blink Store.
 *
 *   BLINK_ADDR=127.0.0.1:8765 PORT=8000 node backend-app.js
 *   curl -i http://127.0.0.1:8000/users/42    # slow: computed, then cached for 60 s
 *   curl -i http://127.0.0.1:8000/users/42    # fast: "cached": true, X-Cache: HIT
 *
 * Cache-aside: look in the cache first; on a miss compute the answer, store it with a
 * TTL, and return it. If Blink Store is unreachable the service still answers, uncached.
 * No dependencies beyond Node's http module. The server address comes from BLINK_SOCKET
 * (a Unix socket path) or BLINK_ADDR (host:port); the HTTP port from PORT (default 8000;
 * 0 picks a free one, printed at start-up).
 */

const http = require('node:http');
const { BlinkClient, BlinkError } = require('./blink-client');

const CACHE_TTL_SECONDS = 60;
const LOOKUP_DELAY_MS = 500;
const USER_PATH = /^\/users\/([A-Za-z0-9_-]{1,64})$/;

const cache = BlinkClient.fromEnv(); // one connection; concurrent requests pipeline on it

/** Stands in for a slow database query or remote call. */
async function expensiveLookup(userId) {
  await new Promise((resolve) => setTimeout(resolve, LOOKUP_DELAY_MS));
  return { id: userId, name: `User ${userId}`, computed_at: Date.now() / 1000 };
}

/** The user and whether it came from the cache. */
async function cachedLookup(userId) {
  const key = `user:${userId}`;
  try {
    const hit = await cache.getString(key);
    if (hit !== null) return { user: JSON.parse(hit), cached: true };
  } catch (error) {
    if (!(error instanceof BlinkError)) throw error;
    console.error(`cache read failed, computing instead: ${error.message}`);
  }
  const user = await expensiveLookup(userId);
  try {
    await cache.set(key, JSON.stringify(user), { ttl: CACHE_TTL_SECONDS });
  } catch (error) {
    if (!(error instanceof BlinkError)) throw error;
    console.error(`cache write failed: ${error.message}`);
  }
  return { user, cached: false };
}

function reply(res, status, body, headers = {}) {
  const data = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(data),
    ...headers,
  });
  res.end(data);
}

const server = http.createServer(async (req, res) => {
  const match = req.method === 'GET' && USER_PATH.exec(req.url);
  if (!match) {
    reply(res, 404, { error: 'try GET /users/<id>' });
    return;
  }
  const started = process.hrtime.bigint();
  try {
    const { user, cached } = await cachedLookup(match[1]);
    const elapsedMs = Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
    reply(res, 200, { user, cached, elapsed_ms: elapsedMs }, { 'X-Cache': cached ? 'HIT' : 'MISS' });
  } catch (error) {
    console.error(error);
    reply(res, 500, { error: 'internal error' });
  }
});

server.listen(Number(process.env.PORT || 8000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
  console.log(`caching in Blink Store at ${cache.address}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close();
    cache.close();
  });
}
