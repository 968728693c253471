// What the Node acceptance scripts share: assertions that count themselves, named
// sections, waiting for a connection to be ready, and a runner that reports the first
// failed section (or, with --keep-going, every failed one) and exits non-zero.
"use strict";

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
    if (v instanceof Set) {
      return [...v];
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

// `promise` must reject with an error whose message starts with `expected`; returns it.
async function expectError(promise, expected, what) {
  let got;
  try {
    got = await promise;
  } catch (error) {
    check(
      String(error.message).startsWith(expected),
      `${what}: expected an error starting ${show(expected)}, got ${show(error.message)}`,
    );
    return error;
  }
  throw new CheckFailed(`${what}: expected the error ${show(expected)}, got the reply ${show(got)}`);
}

// Resolves once the ioredis client `r` is ready; fails after a deadline with the last
// error it saw.
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
          `${what}: not ready after ${deadlineMs} ms (status ${r.status}, last error: ${
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

// Named steps of one script, run in the order they were registered.
class Sections {
  constructor(clientName) {
    this.clientName = clientName;
    this.steps = [];
  }

  section(name, body) {
    this.steps.push([name, body]);
  }

  // Runs every section with `args`; stops at the first failure unless `keepGoing`.
  async run(label, args, keepGoing, failures) {
    for (const [name, body] of this.steps) {
      try {
        await body(...args);
        continue;
      } catch (error) {
        const what =
          error instanceof CheckFailed ? error.message : `${error.constructor.name}: ${error.message}`;
        failures.push(`${this.clientName} FAILED [${label}] at step '${name}': ${what}`);
        console.error(failures[failures.length - 1]);
        if (!(error instanceof CheckFailed) && !keepGoing) {
          console.error(error.stack);
        }
      }
      if (!keepGoing) {
        return;
      }
    }
  }

  // Parses `[--keep-going] HOST PORT`; for each `[label, open]` of `runs(host, port)`,
  // awaits `open()` for the sections' arguments and a function that closes them, runs
  // every section, and closes. Exits 1 on a failure, else prints one summary line.
  async main(usage, runs, version) {
    let args = process.argv.slice(2);
    const keepGoing = args.includes("--keep-going");
    args = args.filter((arg) => arg !== "--keep-going");
    if (args.length !== 2) {
      console.error(`usage: ${usage}`);
      process.exit(2);
    }
    const [host, port] = [args[0], Number(args[1])];
    const failures = [];
    const labels = [];
    for (const [label, open] of runs(host, port)) {
      labels.push(label);
      const [sectionArgs, close] = await open();
      try {
        await this.run(label, sectionArgs, keepGoing, failures);
      } finally {
        close();
      }
      if (failures.length > 0 && !keepGoing) {
        process.exit(1);
      }
    }
    if (failures.length > 0) {
      console.error(`${this.clientName}: ${failures.length} failed steps`);
      process.exit(1);
    }
    console.log(
      `${this.clientName} ${version}: all checks passed in ${labels.length} runs (${labels.join(
        ", ",
      )}), ${checks} checks`,
    );
  }
}

module.exports = { CheckFailed, Sections, between, check, equal, expectError, ready, same, show };
