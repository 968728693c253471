//! COMMAND and its subcommands beside a real `redis-server`: every command Blink Store
//! serves is described as Redis 7 describes it (arity, flags, key positions, ACL
//! categories, tips, key specs, documentation), its keys are found as Redis finds them,
//! and the errors are Redis's.

use std::collections::BTreeSet;

use crate::common::Reply;
use crate::common::SideBySide;
use crate::resp::show_args;

/// Rows Redis 7.0 does not have: Blink Store's USAGE, and two CLIENT subcommands of
/// Redis 7.2 (the version Blink Store reports) that clients send when they connect.
const NOT_IN_REDIS_7_0: &[&str] = &["usage", "client|setinfo", "client|no-touch"];

fn text(reply: &Reply) -> String {
    match reply {
        Reply::Bulk(Some(bytes)) => String::from_utf8(bytes.clone()).unwrap(),
        Reply::Simple(text) => text.clone(),
        other => panic!("not a string: {other:?}"),
    }
}

fn items(reply: Reply) -> Vec<Reply> {
    match reply {
        Reply::Array(Some(items)) => items,
        other => panic!("not an array: {other:?}"),
    }
}

/// Every command and subcommand name COMMAND LIST gives.
fn names(reply: Reply) -> BTreeSet<String> {
    items(reply).iter().map(text).collect()
}

/// A COMMAND INFO entry with its subcommands sorted by name, keeping those `keep` likes.
fn normalized(entry: Reply, keep: &dyn Fn(&str) -> bool) -> Reply {
    let mut fields = items(entry);
    let subs = items(fields.pop().unwrap());
    let mut subs: Vec<Reply> = subs
        .into_iter()
        .filter(|sub| keep(&text(&items_ref(sub)[0])))
        .map(|sub| normalized(sub, keep))
        .collect();
    subs.sort_by_key(|sub| text(&items_ref(sub)[0]));
    fields.push(Reply::Array(Some(subs)));
    Reply::Array(Some(fields))
}

fn items_ref(reply: &Reply) -> &[Reply] {
    match reply {
        Reply::Array(Some(items)) => items,
        other => panic!("not an array: {other:?}"),
    }
}

/// A flat RESP2 map without one of its keys.
fn without(map: Reply, key: &str) -> Reply {
    let pairs = items(map);
    let kept = pairs
        .chunks(2)
        .filter(|pair| text(&pair[0]) != key)
        .flat_map(|pair| pair.iter().cloned())
        .collect();
    Reply::Array(Some(kept))
}

#[test]
fn command_info_and_docs_describe_every_command_as_redis_does() {
    let mut both = SideBySide::start();
    let ours = names(both.ours.call(&[b"COMMAND", b"LIST"]));
    let theirs = names(both.theirs.call(&[b"COMMAND", b"LIST"]));
    for name in &ours {
        let in_redis = theirs.contains(name);
        assert_eq!(
            !in_redis,
            NOT_IN_REDIS_7_0.contains(&name.as_str()),
            "{name}"
        );
        if !in_redis {
            continue;
        }
        let command: &[&[u8]] = &[b"COMMAND", b"INFO", name.as_bytes()];
        let (their_info, our_info) = both.call(command);
        let their_entry = items(their_info).remove(0);
        let our_entry = items(our_info).remove(0);
        assert_eq!(
            normalized(our_entry, &|sub| theirs.contains(sub)),
            normalized(their_entry, &|sub| ours.contains(sub)),
            "COMMAND INFO {name}"
        );
        // Each subcommand's documentation is compared on its own.
        let command: &[&[u8]] = &[b"COMMAND", b"DOCS", name.as_bytes()];
        let (their_docs, our_docs) = both.call(command);
        let [their_name, their_docs]: [Reply; 2] = items(their_docs).try_into().unwrap();
        let [our_name, our_docs]: [Reply; 2] = items(our_docs).try_into().unwrap();
        assert_eq!(our_name, their_name);
        assert_eq!(
            without(our_docs, "subcommands"),
            without(their_docs, "subcommands"),
            "COMMAND DOCS {name}"
        );
    }
    // COMMAND, COMMAND INFO without names and COMMAND COUNT agree on what is served.
    let all = items(both.ours.call(&[b"COMMAND"]));
    let top_level: BTreeSet<String> = all.iter().map(|entry| text(&items_ref(entry)[0])).collect();
    let listed: BTreeSet<String> = ours
        .iter()
        .filter(|name| !name.contains('|'))
        .cloned()
        .collect();
    assert_eq!(top_level, listed);
    let count = both.ours.call(&[b"COMMAND", b"COUNT"]);
    assert_eq!(count, Reply::Integer(i64::try_from(all.len()).unwrap()));
    assert_eq!(
        items(both.ours.call(&[b"COMMAND", b"INFO"])).len(),
        all.len()
    );
    for name in [
        "get", "set", "client", "config", "command", "slowlog", "info", "del",
    ] {
        assert!(top_level.contains(name), "{name}");
    }
}

#[test]
fn command_getkeys_finds_keys_as_redis_does() {
    let mut both = SideBySide::start();
    let lines: &[&[&[u8]]] = &[
        &[b"GET", b"k"],
        &[b"SET", b"k", b"v"],
        &[b"set", b"k", b"v", b"EX", b"10", b"get"],
        &[b"MSET", b"a", b"1", b"b", b"2"],
        &[b"MSET", b"a", b"1", b"b"],
        &[b"MGET", b"a", b"b", b"c"],
        &[b"DEL", b"a", b"b"],
        &[b"UNLINK", b"a"],
        &[b"EXISTS", b"a", b"a"],
        &[b"TOUCH", b"a", b"b"],
        &[b"EXPIRE", b"k", b"10", b"NX"],
        &[b"GETEX", b"k", b"PERSIST"],
        &[b"GETDEL", b"k"],
        &[b"APPEND", b"k", b"v"],
        &[b"INCRBY", b"k", b"1"],
        &[b"GETRANGE", b"k", b"0", b"1"],
        &[b"TTL", b"k"],
        &[b"PING"],
        &[b"PING", b"x"],
        &[b"CLIENT", b"LIST"],
        &[b"CONFIG", b"GET", b"x"],
        &[b"CLIENT", b"NOPE"],
        &[b"NOPE", b"x"],
        &[b"GET"],
        &[b"GET", b"a", b"b"],
        &[b"EXPIRE", b"k"],
        &[b"MSET", b"a"],
    ];
    for line in lines {
        for sub in [&b"GETKEYS"[..], b"GETKEYSANDFLAGS"] {
            let mut command: Vec<&[u8]> = vec![b"COMMAND", sub];
            command.extend_from_slice(line);
            let (want, got) = both.call(&command);
            assert_eq!(got, want, "{:?}", show_args(&command));
        }
    }
}

#[test]
fn command_subcommands_answer_and_fail_as_redis_does() {
    let mut both = SideBySide::start();
    let script: &[&[&[u8]]] = &[
        &[b"COMMAND", b"HELP"],
        &[b"command", b"help", b"x"],
        &[b"COMMAND", b"NOPE"],
        &[b"COMMAND", b"COUNT", b"x"],
        &[b"COMMAND", b"GETKEYS"],
        &[b"COMMAND", b"GETKEYS", b"GET"],
        &[b"COMMAND", b"LIST", b"FILTERBY"],
        &[b"COMMAND", b"LIST", b"FILTERBY", b"PATTERN"],
        &[b"COMMAND", b"LIST", b"FILTERBY", b"NOPE", b"x"],
        &[b"COMMAND", b"LIST", b"NOPE"],
        &[b"COMMAND", b"LIST", b"FILTERBY", b"MODULE", b"x"],
        &[b"COMMAND", b"LIST", b"FILTERBY", b"ACLCAT", b"nope"],
        &[
            b"COMMAND",
            b"INFO",
            b"nope",
            b"get",
            b"client|nope",
            b"GET|x",
        ],
        &[b"COMMAND", b"DOCS", b"nope"],
        &[b"COMMAND", b"DOCS", b"Get", b"nope", b"CLIENT|KILL"],
        &[b"COMMAND", b"INFO", b"client|KILL", b"Config|Get"],
    ];
    for command in script {
        let (want, got) = both.call(command);
        assert_eq!(got, want, "{:?}", show_args(command));
    }
    // Filters give Redis's names among those served (the rows Redis 7.0 lacks aside).
    let served = names(both.ours.call(&[b"COMMAND", b"LIST"]));
    let in_7_0 = |name: &String| !NOT_IN_REDIS_7_0.contains(&name.as_str());
    let filters: &[&[u8]] = &[
        b"PATTERN *expire*",
        b"PATTERN client|*",
        b"PATTERN c?ient",
        b"PATTERN [cg]et*",
        b"ACLCAT connection",
        b"ACLCAT KEYSPACE",
        b"ACLCAT string",
    ];
    for filter in filters {
        let mut command: Vec<&[u8]> = vec![b"COMMAND", b"LIST", b"FILTERBY"];
        command.extend(filter.split(|&b| b == b' '));
        let (want, got) = both.call(&command);
        let want: BTreeSet<String> = names(want).intersection(&served).cloned().collect();
        let got: BTreeSet<String> = names(got).into_iter().filter(in_7_0).collect();
        assert_eq!(got, want, "{:?}", show_args(&command));
    }
}
