#!/usr/bin/env node
'use strict';
/**
 * A tour of blink-client.js.
 *
 * Connects to BLINK_SOCKET (a Unix socket path) if set, else BLINK_ADDR (host:port),
 * else 127.0.0.1:8765:
 *
 *   BLINK_ADDR=127.0.0.1:8765 node example.js
 */

const { BlinkClient, BlinkError } = require('./blink-client');

async function main() {
  const client = BlinkClient.fromEnv();
  try {
    await client.ping();
    console.log(`connected to Blink Store at ${client.address}`);

    await client.set('example:greeting', 'hello, world');
    console.log('greeting:', await client.getString('example:greeting'));

    await client.set('example:bytes', Buffer.from([0, 1, 2, 254, 255]));
    console.log('bytes:', await client.get('example:bytes'));

    console.log('missing:', await client.get('example:missing')); // null

    await client.set('example:session', 'token-123', { ttl: 60 });
    console.log('session ttl:', await client.ttl('example:session'), 'seconds');
    await client.persist('example:session');
    console.log('session ttl after persist:', await client.ttl('example:session'));

    const squares = [0, 1, 2, 3, 4];
    const results = await client.pipeline([
      ...squares.map((n) => ['set', `example:n:${n}`, String(n * n)]),
      ...squares.map((n) => ['getString', `example:n:${n}`]),
    ]);
    console.log('pipelined squares:', results.slice(squares.length));

    // Calls that do not wait for each other share the connection, pipelined.
    const [a, b] = await Promise.all([client.getString('example:n:2'), client.getString('example:n:3')]);
    console.log('concurrent:', a, b);

    try {
      await client.set('example:bad', 'two\nlines');
    } catch (error) {
      console.log('refused before sending:', error.message);
    }

    try {
      await client.get('k'.repeat(5000));
    } catch (error) {
      if (!(error instanceof BlinkError)) throw error;
      console.log('server error:', error.message);
    }

    console.log('deleted:', await client.delete('example:greeting'));
    console.log('usage:', await client.usage(), 'bytes');
    const info = await client.info();
    console.log(`info: keys=${info.keys} hits=${info.hits} misses=${info.misses}`);
  } catch (error) {
    // A BlinkConnectionError when the server is down.
    console.error(`example: ${error.message}`);
    process.exitCode = 1;
  } finally {
    client.close();
  }
}

main();
