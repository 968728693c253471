//! Differential test against a real `redis-server` 7: seeded random sequences of string
//! and key commands, wrong arities and arguments, pipelines (several commands written at
//! once) and transactions (MULTI ... EXEC or DISCARD, errors while queuing, WATCH and
//! UNWATCH) go to Blink Store and to Redis, and every reply must be Redis's exactly.
//! Keys come from a small set so commands meet on them; values include integers, floats
//! and binary bytes. Each sequence starts from FLUSHALL on fresh connections.
//!
//! # What "the same reply" means
//! Exactly the same bytes, except: TTL and EXPIRETIME within 1 s and PTTL and
//! PEXPIRETIME within 1,000 ms when both are times (the two servers read their clocks
//! apart); KEYS as sets; RANDOMKEY only whether there is a key. An EXEC's replies are
//! compared by the same rules, command by command. INFO and TIME are not sent.
//!
//! # Running it
//! - By default each test runs a few sequences from a fresh seed, in well under 30 s.
//! - `BLINK_DIFFERENTIAL_SEED=<n>` replays: a failure prints the seed of the failing
//!   sequence, which then runs first.
//! - `BLINK_LONG_DIFFERENTIAL=1` runs many more, longer sequences.
//! - `BLINK_DIFFERENTIAL_GENERATORS=all` (or names, comma-separated) sends other
//!   generators than [`generators::ENABLED`] to Blink Store, to try commands out.
//!
//! # Switching on a command
//! Blink Store gets only the generators named in [`generators::ENABLED`], the commands
//! it serves; the self-check sends every generator in [`generators::GENERATORS`] to two
//! Redis servers, which shows the harness itself reports no false difference. When a
//! command lands, add its generator's name to `ENABLED`; a new command is one entry in
//! `GENERATORS`.

mod generators;
mod maker;

use crate::common;

use std::net::SocketAddr;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use common::{show, External, Reply, Resp, Server};
use generators::{Command, Generator, Step, ENABLED, GENERATORS};
use maker::Maker;

/// The shape of one test's run.
struct Run {
    /// The first sequence's seed; sequence `i` uses `seed + i`.
    seed: u64,
    sequences: u64,
    steps: usize,
    generators: Vec<&'static Generator>,
}

impl Run {
    fn new(generators: Vec<&'static Generator>) -> Run {
        // On 2 shared cores: 6,000 steps take 1-3 s (13 s under others' load); the long
        // run's 1,000,000 about 3 minutes (2,000,000 took 28 minutes under load).
        let (sequences, steps) = if long_mode() { (1000, 1000) } else { (30, 200) };
        Run {
            seed: seed(),
            sequences,
            steps,
            generators,
        }
    }

    fn generator_names(&self) -> String {
        let names: Vec<&str> = self.generators.iter().map(|g| g.name).collect();
        names.join(", ")
    }
}

fn seed() -> u64 {
    match std::env::var("BLINK_DIFFERENTIAL_SEED") {
        Ok(seed) => seed.parse().expect("BLINK_DIFFERENTIAL_SEED must be a u64"),
        Err(_) => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    }
}

fn long_mode() -> bool {
    std::env::var("BLINK_LONG_DIFFERENTIAL").is_ok_and(|v| v == "1")
}

/// The generators sent to Blink Store: [`ENABLED`], unless
/// `BLINK_DIFFERENTIAL_GENERATORS` names others.
fn blink_generators() -> Vec<&'static Generator> {
    match std::env::var("BLINK_DIFFERENTIAL_GENERATORS") {
        Ok(all) if all == "all" => GENERATORS.iter().collect(),
        Ok(names) => generators::named(&names.split(',').map(str::trim).collect::<Vec<_>>()),
        Err(_) => generators::named(ENABLED),
    }
}

/// A server the sequences go to.
struct Endpoint {
    name: &'static str,
    addr: SocketAddr,
}

fn redis_endpoint(redis: &External, name: &'static str) -> Endpoint {
    Endpoint {
        name,
        addr: redis.addr().parse().unwrap(),
    }
}

/// Runs every sequence of `run` against both servers; panics with a report at the first
/// reply on which `subject` and `reference` disagree.
fn compare(reference: &Endpoint, subject: &Endpoint, run: &Run) {
    let started = Instant::now();
    for i in 0..run.sequences {
        let seed = run.seed.wrapping_add(i);
        Sequence {
            reference,
            subject,
            run,
            seed,
        }
        .play();
    }
    println!(
        "redis differential: {} and {} agree on {} sequences of {} steps (seeds from {}) in {:?}",
        subject.name,
        reference.name,
        run.sequences,
        run.steps,
        run.seed,
        started.elapsed()
    );
}

/// One sequence of steps, from FLUSHALL on fresh connections.
struct Sequence<'a> {
    reference: &'a Endpoint,
    subject: &'a Endpoint,
    run: &'a Run,
    /// What makes it: its steps and their arguments.
    seed: u64,
}

/// Where a step's replies differ: the command's place in the step, and both servers'
/// replies to every command of the step.
struct Disagreement<'a> {
    at: usize,
    want: &'a [Option<Reply>],
    got: &'a [Option<Reply>],
}

impl Sequence<'_> {
    /// Sends every step to both servers, comparing each reply.
    fn play(&self) {
        let mut maker = Maker::new(self.seed, self.run.generators.clone());
        let mut theirs = Resp::connect(self.reference.addr);
        let mut ours = Resp::connect(self.subject.addr);
        for (endpoint, client) in [(self.reference, &mut theirs), (self.subject, &mut ours)] {
            let reply = client.call(&[b"FLUSHALL"]);
            assert_eq!(
                reply,
                Reply::Simple("OK".into()),
                "FLUSHALL on {}",
                endpoint.name
            );
        }
        let mut history: Vec<Step> = Vec::with_capacity(self.run.steps);
        // The commands the open transaction has queued, for comparing EXEC's replies.
        let mut queued: Vec<Command> = Vec::new();
        for _ in 0..self.run.steps {
            let step = maker.step();
            let exchanged =
                catch_unwind(AssertUnwindSafe(|| exchange(&mut theirs, &mut ours, &step)));
            let (want, got) = exchanged.unwrap_or_else(|panic| {
                eprintln!("{}", self.report(&history, &step, None));
                resume_unwind(panic)
            });
            for (at, command) in step.commands.iter().enumerate() {
                if !agree(command, &want[at], &got[at], &queued) {
                    let disagreement = Disagreement {
                        at,
                        want: &want,
                        got: &got,
                    };
                    panic!("{}", self.report(&history, &step, Some(disagreement)));
                }
                track(command, &want[at], &mut queued);
            }
            history.push(step);
        }
    }

    /// What a failure prints: where the servers disagreed (or, with no
    /// `disagreement`, which step failed), how to replay it, and every step before.
    fn report(&self, history: &[Step], step: &Step, disagreement: Option<Disagreement>) -> String {
        let (reference, subject, seed) = (self.reference.name, self.subject.name, self.seed);
        let mut out = match &disagreement {
            Some(d) => format!(
                "{subject} and {reference} disagree on command {} of step {} of the \
                 sequence with seed {seed}:\n",
                d.at + 1,
                history.len()
            ),
            None => format!(
                "step {} of the sequence with seed {seed} failed (above) while talking to \
                 {subject} and {reference}:\n",
                history.len(),
            ),
        };
        for (j, command) in step.commands.iter().enumerate() {
            out.push_str(&format!("  {}\n", render_command(command)));
            if let Some(d) = &disagreement {
                let mark = if d.at == j { "  <- differs" } else { "" };
                out.push_str(&format!(
                    "      {reference}: {}\n      {subject}: {}{mark}\n",
                    render_optional(&d.want[j]),
                    render_optional(&d.got[j]),
                ));
            }
        }
        out.push_str(&format!(
            "replay with BLINK_DIFFERENTIAL_SEED={seed}; generators: {}\n",
            self.run.generator_names()
        ));
        out.push_str("the sequence's steps before it, after FLUSHALL:\n");
        for (n, earlier) in history.iter().enumerate() {
            out.push_str(&format!("  {n:>4}  {}\n", render_step(earlier)));
        }
        out
    }
}

/// A step's replies from one server; `None` where it closed the connection.
type Replies = Vec<Option<Reply>>;

/// Sends a step to both servers and reads both servers' replies. A pipeline is written
/// whole to each before any reply is read; otherwise each command goes to both, and
/// both replies are read, before the next.
fn exchange(theirs: &mut Resp, ours: &mut Resp, step: &Step) -> (Replies, Replies) {
    let batches: Vec<&[Command]> = if step.together {
        vec![&step.commands[..]]
    } else {
        step.commands.chunks(1).collect()
    };
    let (mut want, mut got) = (Vec::new(), Vec::new());
    for batch in batches {
        for client in [&mut *theirs, &mut *ours] {
            for command in batch {
                client.queue(&args(command));
            }
            // Out now, so that neither server waits for the other's replies to be read.
            client.0.send(b"");
        }
        want.extend(batch.iter().map(|_| theirs.read()));
        got.extend(batch.iter().map(|_| ours.read()));
    }
    (want, got)
}

fn args(command: &Command) -> Vec<&[u8]> {
    command.iter().map(Vec::as_slice).collect()
}

/// Whether two replies to `command` are the same (see the module's doc), `queued`
/// holding what the transaction queued if `command` is EXEC.
fn agree(command: &Command, want: &Option<Reply>, got: &Option<Reply>, queued: &[Command]) -> bool {
    match (want, got) {
        (Some(want), Some(got)) => same(command, want, got, queued),
        (None, None) => true,
        _ => false,
    }
}

fn same(command: &Command, want: &Reply, got: &Reply, queued: &[Command]) -> bool {
    let name = command[0].to_ascii_uppercase();
    let within = |tolerance: i64| match (want, got) {
        (Reply::Integer(w), Reply::Integer(g)) if *w >= 0 && *g >= 0 => (w - g).abs() <= tolerance,
        _ => want == got,
    };
    match name.as_slice() {
        b"EXEC" => match (want, got) {
            (Reply::Array(Some(w)), Reply::Array(Some(g))) if w.len() == queued.len() => {
                w.len() == g.len()
                    && queued
                        .iter()
                        .zip(w.iter().zip(g))
                        .all(|(command, (w, g))| same(command, w, g, &[]))
            }
            _ => want == got,
        },
        b"TTL" | b"EXPIRETIME" => within(1),
        b"PTTL" | b"PEXPIRETIME" => within(1000),
        b"KEYS" => match (want, got) {
            (Reply::Array(Some(w)), Reply::Array(Some(g))) => sorted(w) == sorted(g),
            _ => want == got,
        },
        b"RANDOMKEY" => match (want, got) {
            (Reply::Bulk(w), Reply::Bulk(g)) => w.is_some() == g.is_some(),
            _ => want == got,
        },
        _ => want == got,
    }
}

fn sorted(items: &[Reply]) -> Vec<String> {
    let mut shown: Vec<String> = items.iter().map(render).collect();
    shown.sort();
    shown
}

/// Keeps `queued` as the commands the reference server has queued in the open
/// transaction.
fn track(command: &Command, reply: &Option<Reply>, queued: &mut Vec<Command>) {
    let name = command[0].to_ascii_uppercase();
    let status = |text: &str| *reply == Some(Reply::Simple(text.to_owned()));
    if status("QUEUED") {
        queued.push(command.clone());
    } else if name == b"EXEC" || name == b"DISCARD" || (name == b"MULTI" && status("OK")) {
        queued.clear();
    }
}

/// A reply as redis-cli would show it, on one line.
fn render(reply: &Reply) -> String {
    match reply {
        Reply::Simple(status) => format!("+{status}"),
        Reply::Error(error) => format!("-{error}"),
        Reply::Integer(n) => format!(":{n}"),
        Reply::Bulk(None) => "(nil)".to_owned(),
        Reply::Bulk(Some(bytes)) => format!("\"{}\"", show(bytes)),
        Reply::Array(None) => "(nil array)".to_owned(),
        Reply::Array(Some(items)) => {
            let items: Vec<String> = items.iter().map(render).collect();
            format!("[{}]", items.join(", "))
        }
    }
}

fn render_optional(reply: &Option<Reply>) -> String {
    reply
        .as_ref()
        .map_or_else(|| "(connection closed)".to_owned(), render)
}

/// A command as it could be typed into redis-cli.
fn render_command(command: &Command) -> String {
    let mut out = String::from_utf8_lossy(&command[0]).into_owned();
    for arg in &command[1..] {
        out.push_str(&format!(" \"{}\"", show(arg)));
    }
    out
}

fn render_step(step: &Step) -> String {
    let commands: Vec<String> = step.commands.iter().map(render_command).collect();
    if step.together {
        format!("(written together) {}", commands.join(" | "))
    } else {
        commands.join(" | ")
    }
}

#[test]
fn every_generator_name_is_unique_and_every_enabled_one_exists() {
    for (i, generator) in GENERATORS.iter().enumerate() {
        assert!(
            GENERATORS[..i].iter().all(|g| g.name != generator.name),
            "two generators are named {:?}",
            generator.name
        );
    }
    assert_eq!(generators::named(ENABLED).len(), ENABLED.len());
}

/// The harness's self-check: two real Redis servers must agree on sequences of every
/// generator, or the harness reports differences that are not there.
#[test]
fn two_redis_servers_agree_on_every_generator() {
    let (first, second) = (External::redis(), External::redis());
    let run = Run::new(GENERATORS.iter().collect());
    compare(
        &redis_endpoint(&first, "redis-server"),
        &redis_endpoint(&second, "a second redis-server"),
        &run,
    );
}

#[test]
fn blink_store_answers_random_sequences_as_redis_does() {
    let redis = External::redis();
    // Redis held to Blink Store's default value limit (1 MiB), which also bounds bit
    // offsets and SETRANGE: its proto-max-bulk-len.
    let set = [&b"CONFIG"[..], b"SET", b"proto-max-bulk-len", b"1048576"];
    let mut config = common::Resp::connect(redis.addr().parse().unwrap());
    assert_eq!(config.call(&set), common::Reply::Simple("OK".into()));
    let blink = Server::start(&["--memory-limit", "64MiB"]);
    let run = Run::new(blink_generators());
    compare(
        &redis_endpoint(&redis, "redis-server"),
        &Endpoint {
            name: "Blink Store",
            addr: blink.tcp.unwrap(),
        },
        &run,
    );
}
