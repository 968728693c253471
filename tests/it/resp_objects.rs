//! OBJECT, MEMORY, DUMP and RESTORE beside a real `redis-server`: replies and error texts
//! compared exactly where Redis's are comparable. The figures (FREQ, IDLETIME, MEMORY
//! USAGE) are each server's own, and DUMP's payloads differ by design: they round-trip
//! between Blink Store servers.

use crate::common::SideBySide;
use crate::common::{self, Reply, Server};
use crate::resp::show_args;

#[test]
fn object_and_memory_answer_as_redis_does() {
    let mut both = SideBySide::start();
    // Blink's default policy is TinyLFU, which it reports as allkeys-lfu; with a memory
    // limit, Redis shares no integers, so every REFCOUNT is 1 there too.
    for (name, value) in [
        (&b"maxmemory-policy"[..], &b"allkeys-lfu"[..]),
        (b"maxmemory", b"100mb"),
    ] {
        let reply = both.theirs.call(&[b"CONFIG", b"SET", name, value]);
        assert_eq!(reply, Reply::Simple("OK".into()));
    }
    let x44 = [b'x'; 44];
    let x45 = [b'x'; 45];
    let mut script: Vec<Vec<&[u8]>> = Vec::new();
    for (key, value) in [
        (&b"s"[..], &b"hello"[..]),
        (b"n", b"123"),
        (b"neg", b"-5"),
        (b"lead", b"007"),
        (b"big", b"99999999999999999999"),
        (b"e44", &x44),
        (b"e45", &x45),
        (b"empty", b""),
    ] {
        script.push(vec![b"SET", key, value]);
        script.push(vec![b"OBJECT", b"ENCODING", key]);
        script.push(vec![b"object", b"refcount", key]);
    }
    let rest: &[&[&[u8]]] = &[
        &[b"OBJECT", b"ENCODING", b"missing"],
        &[b"OBJECT", b"FREQ", b"missing"],
        &[b"OBJECT", b"IDLETIME", b"missing"],
        &[b"OBJECT", b"REFCOUNT", b"missing"],
        &[b"OBJECT", b"IDLETIME", b"s"],
        &[b"OBJECT", b"HELP"],
        &[b"object", b"help"],
        &[b"OBJECT"],
        &[b"OBJECT", b"FOO"],
        &[b"OBJECT", b"foo", b"s"],
        &[b"OBJECT", b"HELP", b"x"],
        &[b"OBJECT", b"ENCODING"],
        &[b"OBJECT", b"ENCODING", b"s", b"x"],
        &[b"OBJECT", b"FREQ"],
        &[b"OBJECT", b"IDLETIME", b"s", b"x"],
        &[b"OBJECT", b"REFCOUNT"],
        &[b"MEMORY"],
        &[b"MEMORY", b"FOO"],
        &[b"MEMORY", b"USAGE"],
        &[b"MEMORY", b"USAGE", b"missing"],
        &[b"MEMORY", b"USAGE", b"missing", b"SAMPLES", b"5"],
        &[b"MEMORY", b"USAGE", b"s", b"SAMPLES"],
        &[b"MEMORY", b"USAGE", b"s", b"SAMPLES", b"x"],
        &[b"MEMORY", b"USAGE", b"s", b"SAMPLES", b"-1"],
        &[b"MEMORY", b"USAGE", b"missing", b"FOO"],
        &[b"MEMORY", b"HELP", b"x"],
    ];
    script.extend(rest.iter().map(|command| command.to_vec()));
    for command in &script {
        both.assert_same(&[command.as_slice()]);
    }
    // The figures themselves are each server's own; both are integers.
    for command in [
        &[&b"OBJECT"[..], b"FREQ", b"s"][..],
        &[b"MEMORY", b"USAGE", b"s"],
        &[b"MEMORY", b"USAGE", b"s", b"SAMPLES", b"0"],
    ] {
        let (theirs, ours) = both.call(command);
        assert!(
            matches!((&theirs, &ours), (Reply::Integer(_), Reply::Integer(n)) if *n >= 0),
            "{:?}: Redis {theirs:?}, Blink {ours:?}",
            show_args(command)
        );
    }
    // MEMORY HELP lists what is served here: Redis's text without DOCTOR, MALLOC-STATS,
    // PURGE and STATS.
    let (Reply::Array(Some(theirs)), Reply::Array(Some(ours))) = both.call(&[b"MEMORY", b"HELP"])
    else {
        panic!("MEMORY HELP is an array");
    };
    let listed = |line: &Reply| ours.contains(line);
    assert_eq!(theirs.into_iter().filter(listed).count(), 6);
    assert_eq!(ours.len(), 6);
    // FREQ is the key's count of reads in the frequency sketch.
    for _ in 0..3 {
        both.ours.call(&[b"GET", b"n"]);
    }
    assert_eq!(
        both.ours.call(&[b"OBJECT", b"FREQ", b"n"]),
        Reply::Integer(3)
    );
}

#[test]
fn object_under_lru_answers_as_redis_does() {
    let mut both = SideBySide::start_with(&["--eviction-policy", "lru"]);
    let reply = both
        .theirs
        .call(&[b"CONFIG", b"SET", b"maxmemory-policy", b"allkeys-lru"]);
    assert_eq!(reply, Reply::Simple("OK".into()));
    both.assert_same(&[
        &[b"SET", b"s", b"v"],
        &[b"OBJECT", b"FREQ", b"s"],
        &[b"OBJECT", b"FREQ", b"missing"],
        &[b"OBJECT", b"IDLETIME", b"missing"],
    ]);
    let (Reply::Integer(theirs), Reply::Integer(ours)) = both.call(&[b"OBJECT", b"IDLETIME", b"s"])
    else {
        panic!("IDLETIME is an integer");
    };
    assert!(theirs <= 1 && ours <= 1, "Redis {theirs}, Blink {ours}");
    // RESTORE's IDLETIME ages the entry as eviction sees it.
    let Reply::Bulk(Some(payload)) = both.ours.call(&[b"DUMP", b"s"]) else {
        panic!("DUMP of a key is a bulk string");
    };
    let restore: &[&[u8]] = &[b"RESTORE", b"old", b"0", &payload, b"IDLETIME", b"3600"];
    assert_eq!(both.ours.call(restore), Reply::Simple("OK".into()));
    let Reply::Integer(idle) = both.ours.call(&[b"OBJECT", b"IDLETIME", b"old"]) else {
        panic!("IDLETIME is an integer");
    };
    assert!((3600..3602).contains(&idle), "{idle}");
}

#[test]
fn dump_and_restore_errors_answer_as_redis_does() {
    let mut both = SideBySide::start();
    both.assert_same(&[
        &[b"SET", b"a", b"hello"],
        &[b"DUMP", b"missing"],
        &[b"DUMP"],
        &[b"DUMP", b"a", b"b"],
        &[b"RESTORE", b"b", b"0"],
        &[b"RESTORE", b"a", b"0", b"junk"],
        &[b"RESTORE", b"a", b"x", b"junk"],
        &[b"RESTORE", b"a", b"-1", b"junk"],
        &[b"RESTORE", b"b", b"x", b"junk"],
        &[b"RESTORE", b"b", b"-1", b"junk"],
        &[b"RESTORE", b"b", b"0", b"junk"],
        &[b"RESTORE", b"b", b"0", b""],
        &[b"RESTORE", b"b", b"9223372036854775808", b"junk"],
        &[b"RESTORE", b"b", b"0", b"junk", b"FOO"],
        &[b"RESTORE", b"a", b"0", b"junk", b"FOO"],
        &[b"RESTORE", b"b", b"0", b"junk", b"IDLETIME", b"-1"],
        &[b"RESTORE", b"a", b"0", b"junk", b"IDLETIME", b"-1"],
        &[b"RESTORE", b"b", b"0", b"junk", b"IDLETIME", b"x"],
        &[b"RESTORE", b"b", b"0", b"junk", b"FREQ", b"256"],
        &[b"RESTORE", b"b", b"0", b"junk", b"FREQ", b"-1"],
        &[
            b"RESTORE",
            b"b",
            b"0",
            b"junk",
            b"FREQ",
            b"5",
            b"IDLETIME",
            b"5",
        ],
        &[
            b"RESTORE",
            b"b",
            b"0",
            b"junk",
            b"IDLETIME",
            b"5",
            b"FREQ",
            b"5",
        ],
        &[
            b"RESTORE",
            b"b",
            b"0",
            b"junk",
            b"IDLETIME",
            b"5",
            b"IDLETIME",
            b"6",
        ],
        &[b"RESTORE", b"b", b"0", b"junk", b"IDLETIME"],
        &[b"RESTORE", b"b", b"0", b"junk", b"REPLACE", b"ABSTTL"],
        &[b"RESTORE", b"a", b"0", b"junk", b"replace"],
    ]);
    // Each refuses the other's payload, with the same words.
    let (Reply::Bulk(Some(redis_payload)), Reply::Bulk(Some(blink_payload))) =
        both.call(&[b"DUMP", b"a"])
    else {
        panic!("DUMP of a key is a bulk string");
    };
    let refused = Reply::Error("ERR DUMP payload version or checksum are wrong".into());
    assert_eq!(
        both.ours.call(&[b"RESTORE", b"r", b"0", &redis_payload]),
        refused
    );
    assert_eq!(
        both.theirs.call(&[b"RESTORE", b"r", b"0", &blink_payload]),
        refused
    );
}

#[test]
fn dump_payloads_round_trip_between_blink_servers() {
    let (first, second) = (Server::start(&[]), Server::start(&[]));
    let mut from = common::Resp::connect(first.tcp.unwrap());
    let mut to = common::Resp::connect(second.tcp.unwrap());
    let ok = Reply::Simple("OK".into());
    let value: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    assert_eq!(from.call(&[b"SET", b"k", &value, b"EX", b"100"]), ok);
    let Reply::Bulk(Some(payload)) = from.call(&[b"DUMP", b"k"]) else {
        panic!("DUMP of a key is a bulk string");
    };
    // Without its expiry: RESTORE gives the time to live.
    assert_eq!(to.call(&[b"RESTORE", b"k", b"0", &payload]), ok);
    assert_eq!(to.call(&[b"GET", b"k"]), Reply::Bulk(Some(value.clone())));
    assert_eq!(to.call(&[b"TTL", b"k"]), Reply::Integer(-1));
    assert_eq!(
        to.call(&[b"DUMP", b"k"]),
        Reply::Bulk(Some(payload.clone()))
    );
    assert_eq!(
        to.call(&[b"RESTORE", b"k", b"0", &payload]),
        Reply::Error("BUSYKEY Target key name already exists.".into())
    );
    let restore = |ttl: &[u8], options: &[&[u8]]| {
        let mut command: Vec<&[u8]> = vec![b"RESTORE", b"k", ttl, &payload, b"REPLACE"];
        command.extend_from_slice(options);
        command.iter().map(|arg| arg.to_vec()).collect::<Vec<_>>()
    };
    let call = |client: &mut common::Resp, command: Vec<Vec<u8>>| {
        client.call(&command.iter().map(Vec::as_slice).collect::<Vec<_>>())
    };
    assert_eq!(call(&mut to, restore(b"100000", &[b"FREQ", b"7"])), ok);
    assert_eq!(to.call(&[b"TTL", b"k"]), Reply::Integer(100));
    // An absolute time already past stores nothing, and REPLACE removed the old value.
    assert_eq!(call(&mut to, restore(b"1000", &[b"ABSTTL"])), ok);
    assert_eq!(to.call(&[b"EXISTS", b"k"]), Reply::Integer(0));
    assert_eq!(call(&mut to, restore(b"4000000000000", &[b"ABSTTL"])), ok);
    assert_eq!(
        to.call(&[b"EXPIRETIME", b"k"]),
        Reply::Integer(4_000_000_000)
    );
    // On the same server, under another key.
    assert_eq!(from.call(&[b"RESTORE", b"copy", b"0", &payload]), ok);
    assert_eq!(from.call(&[b"GET", b"copy"]), Reply::Bulk(Some(value)));
    // A damaged payload is refused.
    let mut damaged = payload.clone();
    damaged[10] ^= 1;
    assert_eq!(
        to.call(&[b"RESTORE", b"other", b"0", &damaged]),
        Reply::Error("ERR DUMP payload version or checksum are wrong".into())
    );
}
