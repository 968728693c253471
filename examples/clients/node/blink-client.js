'use strict';
/**
 * A small client for Blink Store's line protocol. Node.js 18+, no dependencies: copy
 * this file into your project.
 *
 *   const { BlinkClient, BlinkError } = require('./blink-client');
 *
 *   const client = new BlinkClient({ host: '127.0.0.1', port: 8765 }); // or { path }
 *   await client.set('greeting', 'hello');             // strings are stored as UTF-8
 *   await client.get('greeting');                      // <Buffer 68 65 6c 6c 6f>; null when missing
 *   await client.getString('greeting');                // 'hello'
 *   await client.set('session:42', token, { ttl: 60 }); // expires in 60 seconds
 *   await client.pipeline([['set', 'a', '1'], ['get', 'a']]); // [true, <Buffer 31>]
 *   client.close();
 *
 * A client holds one connection, opened on first use. Requests made without waiting
 * for earlier ones are pipelined on it; replies come back in order. If the connection
 * breaks (the server restarted or closed it), unanswered requests are sent once more
 * on a new connection; if the server cannot be reached, the promise rejects with a
 * BlinkConnectionError that says where and why. An idle client does not keep the
 * process alive.
 */

const net = require('node:net');

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 8765;
const LF = 0x0a;
const CR = 0x0d;

/** The server answered `ERROR <text>`; `message` is the text. */
class BlinkError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'BlinkError';
  }
}

/** The server cannot be reached, or the connection broke and reconnecting failed. */
class BlinkConnectionError extends BlinkError {
  constructor(message, options) {
    super(message, options);
    this.name = 'BlinkConnectionError';
  }
}

/** A reply this client does not understand: the connection is dropped after it. */
class UnexpectedReply extends BlinkError {}

const REASONS = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPIPE: 'broken pipe',
  ETIMEDOUT: 'timed out',
  ENOTFOUND: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

function reason(error) {
  return (error && (REASONS[error.code] || error.message)) || 'the server closed the connection';
}

/** Splits `host:port` (or `[v6-host]:port`). */
function parseAddress(address) {
  const colon = address.lastIndexOf(':');
  let host = address.slice(0, colon);
  const port = address.slice(colon + 1);
  if (colon <= 0 || !/^\d+$/.test(port)) {
    throw new TypeError(`expected HOST:PORT, got ${JSON.stringify(address)}`);
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port: Number(port) };
}

function toBytes(what, data) {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`${what} must be a string or a Buffer, not ${data === null ? 'null' : typeof data}`);
}

function keyBytes(key) {
  const bytes = toBytes('a key', key);
  if (bytes.length === 0) throw new TypeError('a key must not be empty');
  if (bytes.some((b) => b <= 0x20 || b === 0x7f)) {
    throw new TypeError(`a key must not contain spaces or control bytes: ${JSON.stringify(String(key))}`);
  }
  return bytes;
}

function valueBytes(value) {
  const bytes = toBytes('a value', value);
  if (bytes.includes(LF)) {
    throw new TypeError('a value must not contain a line feed (LF): the protocol is line based');
  }
  if (bytes.length > 0 && bytes[bytes.length - 1] === CR) {
    throw new TypeError('a value must not end with a carriage return (CR)');
  }
  return bytes;
}

function secondsText(seconds) {
  if (!Number.isSafeInteger(seconds)) {
    throw new TypeError(`seconds must be an integer, not ${JSON.stringify(seconds)}`);
  }
  return String(seconds);
}

function line(...parts) {
  const chunks = [];
  parts.forEach((part, i) => {
    if (i > 0) chunks.push(Buffer.from(' '));
    chunks.push(typeof part === 'string' ? Buffer.from(part, 'latin1') : part);
  });
  chunks.push(Buffer.from('\n'));
  return Buffer.concat(chunks);
}

// Reply parsers: each takes the reply lines of one command (Buffers without their line
// ends) and returns the command's result, or throws.

function throwIfError(reply) {
  const text = reply.toString('latin1');
  if (text === 'ERROR' || text.startsWith('ERROR ')) {
    throw new BlinkError(reply.subarray(6).toString('utf8'));
  }
  return text;
}

function unexpected(reply) {
  return new UnexpectedReply(`unexpected reply from the server: ${JSON.stringify(reply.toString('latin1').slice(0, 80))}`);
}

function parseOk([reply]) {
  if (throwIfError(reply) !== 'OK') throw unexpected(reply);
  return true;
}

function parseOkOrNotFound([reply]) {
  const text = throwIfError(reply);
  if (text === 'OK') return true;
  if (text === 'NOT_FOUND') return false;
  throw unexpected(reply);
}

function parseValue([reply]) {
  const text = throwIfError(reply);
  if (text === 'NOT_FOUND') return null;
  if (text === 'VALUE' || text.startsWith('VALUE ')) {
    const encoded = text.slice(6);
    if (/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) && encoded.length % 4 === 0) {
      return Buffer.from(encoded, 'base64');
    }
  }
  throw unexpected(reply);
}

function parseNumber(word, orNull) {
  return ([reply]) => {
    const text = throwIfError(reply);
    if (orNull && text === 'NOT_FOUND') return null;
    const match = /^(\S+) (-?\d+)$/.exec(text);
    if (!match || match[1] !== word) throw unexpected(reply);
    return Number(match[2]);
  };
}

function parsePong([reply]) {
  if (throwIfError(reply) !== 'PONG') throw unexpected(reply);
  return true;
}

function parseInfo([reply]) {
  const text = throwIfError(reply);
  if (text !== 'INFO' && !text.startsWith('INFO ')) throw unexpected(reply);
  const info = {};
  for (const pair of reply.subarray(5).toString('utf8').split(' ')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const name = eq === -1 ? pair : pair.slice(0, eq);
    const value = eq === -1 ? '' : pair.slice(eq + 1);
    info[name] = /^-?\d+$/.test(value) ? Number(value) : value;
  }
  return info;
}

/**
 * Every command: its name, and how to build its request (lines, reply count, parser)
 * from the method's arguments. Builders throw TypeError for an argument the protocol
 * cannot carry, before anything is sent.
 */
const COMMANDS = {
  set(key, value, { ttl } = {}) {
    const k = keyBytes(key);
    const set = line('SET', k, valueBytes(value));
    if (ttl === undefined || ttl === null) return { payload: set, replies: 1, parse: parseOk };
    const expire = line('EXPIRE', k, secondsText(ttl));
    return {
      payload: Buffer.concat([set, expire]),
      replies: 2,
      parse: ([setReply, expireReply]) => {
        parseOk([setReply]);
        parseOkOrNotFound([expireReply]); // NOT_FOUND: evicted or deleted since; the SET did work
        return true;
      },
    };
  },
  get: (key) => ({ payload: line('GET', keyBytes(key)), replies: 1, parse: parseValue }),
  getString: (key, encoding = 'utf8') => ({
    payload: line('GET', keyBytes(key)),
    replies: 1,
    parse: (lines) => {
      const value = parseValue(lines);
      return value === null ? null : value.toString(encoding);
    },
  }),
  delete: (key) => ({ payload: line('DELETE', keyBytes(key)), replies: 1, parse: parseOkOrNotFound }),
  usage: () => ({ payload: line('USAGE'), replies: 1, parse: parseNumber('USAGE', false) }),
  ping: () => ({ payload: line('PING'), replies: 1, parse: parsePong }),
  expire: (key, seconds) => ({
    payload: line('EXPIRE', keyBytes(key), secondsText(seconds)),
    replies: 1,
    parse: parseOkOrNotFound,
  }),
  ttl: (key) => ({ payload: line('TTL', keyBytes(key)), replies: 1, parse: parseNumber('TTL', true) }),
  persist: (key) => ({ payload: line('PERSIST', keyBytes(key)), replies: 1, parse: parseOkOrNotFound }),
  info: () => ({ payload: line('INFO'), replies: 1, parse: parseInfo }),
};

/** One socket and the requests written to it that still wait for replies. */
class Connection {
  constructor(socket, onLost) {
    this.socket = socket;
    this.pending = [];
    this.buffer = Buffer.alloc(0);
    this.searchFrom = 0;
    this.lost = false;
    this.timedOut = false;
    let lastError = null;
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (error) => {
      lastError = error;
    });
    const lost = () => {
      if (this.lost) return;
      this.lost = true;
      onLost(this, lastError);
    };
    socket.on('end', lost);
    socket.on('close', lost);
    socket.on('timeout', () => {
      if (this.pending.length > 0) {
        this.timedOut = true;
        socket.destroy();
      }
    });
    this.idle();
  }

  write(entries) {
    this.pending.push(...entries);
    this.socket.ref();
    this.socket.write(Buffer.concat(entries.map((e) => e.spec.payload)));
  }

  /** An idle connection does not keep the process alive. */
  idle() {
    if (this.pending.length === 0) this.socket.unref();
  }

  onData(chunk) {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let start = 0;
    let nl;
    while ((nl = this.buffer.indexOf(LF, Math.max(start, this.searchFrom))) !== -1) {
      const end = nl > start && this.buffer[nl - 1] === CR ? nl - 1 : nl;
      const reply = this.buffer.subarray(start, end);
      start = nl + 1;
      if (!this.onReply(reply)) return;
    }
    this.buffer = this.buffer.subarray(start);
    this.searchFrom = this.buffer.length;
  }

  /** Gives a reply line to the oldest request; false if the connection was dropped. */
  onReply(reply) {
    const entry = this.pending[0];
    if (!entry) {
      this.socket.destroy(unexpected(reply));
      return false;
    }
    entry.replies.push(reply);
    if (entry.replies.length < entry.spec.replies) return true;
    this.pending.shift();
    this.idle();
    let result;
    try {
      result = entry.spec.parse(entry.replies);
    } catch (error) {
      entry.reject(error);
      if (error instanceof UnexpectedReply) {
        this.socket.destroy(); // replies may be out of step from here on
        return false;
      }
      return true;
    }
    entry.resolve(result);
    return true;
  }
}

class BlinkClient {
  /**
   * @param {object} [options]
   * @param {string} [options.host='127.0.0.1']
   * @param {number} [options.port=8765]
   * @param {string} [options.path] a Unix socket path, used instead of host and port
   * @param {number} [options.timeout=5000] milliseconds to wait for a connection or a reply
   */
  constructor({ host = DEFAULT_HOST, port = DEFAULT_PORT, path, timeout = 5000 } = {}) {
    this.host = host;
    this.port = port;
    this.path = path;
    this.timeout = timeout;
    this._connection = null;
    this._connecting = null;
    this._outbox = []; // requests waiting for a connection
  }

  /**
   * A client for BLINK_SOCKET (a Unix socket path) if set, else BLINK_ADDR
   * (host:port), else 127.0.0.1:8765.
   */
  static fromEnv(env = process.env, options = {}) {
    if (env.BLINK_SOCKET) return new BlinkClient({ ...options, path: env.BLINK_SOCKET });
    if (env.BLINK_ADDR) return new BlinkClient({ ...options, ...parseAddress(env.BLINK_ADDR) });
    return new BlinkClient(options);
  }

  /** Where the server is, as shown in messages. */
  get address() {
    if (this.path !== undefined) return this.path;
    return this.host.includes(':') ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
  }

  /** Stores `value` (a Buffer, or a string as UTF-8); resolves to true. With `ttl` the
   * key expires after that many seconds (a SET and an EXPIRE sent in one write). A plain
   * set clears an earlier expiry. */
  set(key, value, options) {
    return this._call('set', [key, value, options]);
  }

  /** The value as a Buffer, or null when the key is missing. */
  get(key) {
    return this._call('get', [key]);
  }

  /** The value decoded as text, or null when the key is missing. */
  getString(key, encoding = 'utf8') {
    return this._call('getString', [key, encoding]);
  }

  /** True if the key existed. */
  delete(key) {
    return this._call('delete', [key]);
  }

  /** The bytes of keys and values stored. */
  usage() {
    return this._call('usage', []);
  }

  /** True when the server answers PONG. */
  ping() {
    return this._call('ping', []);
  }

  /** Makes the key expire in `seconds` (zero or less deletes it); false if missing. */
  expire(key, seconds) {
    return this._call('expire', [key, seconds]);
  }

  /** Seconds left to live, -1 if the key never expires, null if it is missing. */
  ttl(key) {
    return this._call('ttl', [key]);
  }

  /** Removes the key's expiry; false if it is missing. */
  persist(key) {
    return this._call('persist', [key]);
  }

  /** The server's counters, e.g. `{ keys: 3, hits: 10, ... }`. */
  info() {
    return this._call('info', []);
  }

  /**
   * Sends several commands in one write: `[['set', key, value, { ttl }], ['get', key]]`,
   * each a method name and its arguments. Resolves to one result per command, in
   * order. Rejects with the first BlinkError among the replies (all of them are read
   * first); with `{ throwOnError: false }` the error takes its result's place instead.
   */
  async pipeline(commands, { throwOnError = true } = {}) {
    const specs = commands.map(([name, ...args]) => build(name, args));
    const results = this._send(specs);
    if (throwOnError) return Promise.all(results);
    return Promise.all(results.map((p) => p.catch((error) => error)));
  }

  /** Opens the connection now rather than on first use. */
  async connect() {
    if (!this._connection) await this._connect();
  }

  /** Closes the connection once the replies already asked for have arrived. The next
   * request opens a new one. */
  close() {
    const connection = this._connection;
    this._connection = null;
    if (connection) {
      connection.closing = true;
      connection.socket.end();
    }
  }

  async _call(name, args) {
    return this._send([build(name, args)])[0];
  }

  _send(specs) {
    const promises = specs.map((spec) => {
      const entry = { spec, replies: [], retried: false };
      const promise = new Promise((resolve, reject) => {
        entry.resolve = resolve;
        entry.reject = reject;
      });
      this._outbox.push(entry);
      return promise;
    });
    this._flush();
    return promises;
  }

  /** Writes everything in the outbox in one write, connecting first if need be. */
  _flush() {
    if (this._outbox.length === 0) return;
    if (this._connection) {
      const entries = this._outbox;
      this._outbox = [];
      this._connection.write(entries);
      return;
    }
    this._connect().then(
      () => this._flush(),
      (error) => {
        const failed = this._outbox;
        this._outbox = [];
        for (const entry of failed) entry.reject(error);
      },
    );
  }

  _connect() {
    if (this._connecting) return this._connecting;
    this._connecting = new Promise((resolve, reject) => {
      const socket = this.path !== undefined
        ? net.createConnection({ path: this.path })
        : net.createConnection({ host: this.host, port: this.port });
      const fail = (error) => {
        socket.destroy();
        reject(new BlinkConnectionError(`cannot connect to Blink Store at ${this.address}: ${reason(error)}`, { cause: error }));
      };
      socket.once('error', fail);
      socket.setTimeout(this.timeout, () => fail(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      socket.once('connect', () => {
        socket.off('error', fail);
        socket.setTimeout(this.timeout); // from now on: how long a reply may take
        socket.removeAllListeners('timeout');
        if (this.path === undefined) socket.setNoDelay(true);
        this._connection = new Connection(socket, (connection, error) => this._lost(connection, error));
        resolve();
      });
    });
    this._connecting.then(
      () => { this._connecting = null; },
      () => { this._connecting = null; },
    );
    return this._connecting;
  }

  /** A connection ended: requests it did not answer are sent once more on a new one. */
  _lost(connection, error) {
    if (this._connection === connection) this._connection = null;
    const unanswered = connection.pending;
    connection.pending = [];
    if (unanswered.length === 0) return;
    if (connection.timedOut || connection.closing) {
      const message = connection.timedOut
        ? `no reply from Blink Store at ${this.address} within ${this.timeout} ms`
        : 'the connection closed before the reply arrived';
      for (const entry of unanswered) entry.reject(new BlinkConnectionError(message));
      return;
    }
    const again = [];
    for (const entry of unanswered) {
      if (entry.retried) {
        entry.reject(new BlinkConnectionError(
          `lost the connection to Blink Store at ${this.address}: ${reason(error)}`, { cause: error },
        ));
      } else {
        entry.retried = true;
        entry.replies = [];
        again.push(entry);
      }
    }
    this._outbox.unshift(...again);
    this._flush();
  }
}

function build(name, args) {
  if (!Object.prototype.hasOwnProperty.call(COMMANDS, name)) {
    throw new TypeError(`unknown command ${JSON.stringify(name)}: expected one of ${Object.keys(COMMANDS).join(', ')}`);
  }
  return COMMANDS[name](...args);
}

module.exports = { BlinkClient, BlinkError, BlinkConnectionError, parseAddress };
