//! CLIENT, CONFIG, SLOWLOG and INFO's statistics beside a real `redis-server`: Redis's
//! formats and error texts, and what each really does here (CLIENT KILL closes the other
//! connection, CLIENT REPLY silences replies, CONFIG SET maxmemory moves the eviction
//! limit, the slow log keeps slow commands).

use std::collections::BTreeMap;

use crate::common::SideBySide;
use crate::common::{self, info_fields, wait_for, Reply, Server};
use crate::resp::show_args;

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

/// A CLIENT LIST line's fields, in order.
fn fields(line: &str) -> Vec<(String, String)> {
    line.trim_end()
        .split(' ')
        .map(|field| {
            let (name, value) = field.split_once('=').unwrap();
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

fn run_script(both: &mut SideBySide, script: &[&[&[u8]]]) {
    for command in script {
        let (want, got) = both.call(command);
        assert_eq!(got, want, "{:?}", show_args(command));
    }
}

#[test]
fn client_subcommands_answer_and_fail_as_redis_does() {
    let mut both = SideBySide::start();
    run_script(
        &mut both,
        &[
            &[b"CLIENT"],
            &[b"CLIENT", b"NOPE"],
            &[b"CLIENT", b"KILL"],
            &[b"CLIENT", b"KILL", b"ID", b"abc"],
            &[b"CLIENT", b"KILL", b"ID", b"0"],
            &[b"CLIENT", b"KILL", b"ID", b"1", b"SKIPME", b"maybe"],
            &[b"CLIENT", b"KILL", b"TYPE", b"nope"],
            &[b"CLIENT", b"KILL", b"USER", b"nobody"],
            &[b"CLIENT", b"KILL", b"ADDR"],
            &[b"CLIENT", b"KILL", b"ID", b"1", b"ADDR"],
            &[b"CLIENT", b"KILL", b"NOPE", b"x"],
            &[b"CLIENT", b"KILL", b"1.2.3.4:5"],
            &[b"CLIENT", b"KILL", b"ID", b"99999"],
            &[b"CLIENT", b"KILL", b"TYPE", b"replica"],
            &[b"CLIENT", b"KILL", b"TYPE", b"normal"],
            &[
                b"CLIENT",
                b"KILL",
                b"USER",
                b"default",
                b"ADDR",
                b"1.2.3.4:5",
            ],
            &[b"CLIENT", b"KILL", b"LADDR", b"1.2.3.4:5", b"SKIPME", b"no"],
            &[b"CLIENT", b"LIST", b"TYPE", b"nope"],
            &[b"CLIENT", b"LIST", b"TYPE", b"pubsub"],
            &[b"CLIENT", b"LIST", b"TYPE"],
            &[b"CLIENT", b"LIST", b"ID"],
            &[b"CLIENT", b"LIST", b"ID", b"abc"],
            &[b"CLIENT", b"LIST", b"ID", b"99999", b"-1"],
            &[b"CLIENT", b"LIST", b"NOPE"],
            &[b"CLIENT", b"REPLY"],
            &[b"CLIENT", b"REPLY", b"nope"],
            &[b"CLIENT", b"REPLY", b"ON"],
            &[b"CLIENT", b"NO-EVICT", b"nope"],
            &[b"CLIENT", b"NO-EVICT", b"on"],
            &[b"CLIENT", b"NO-EVICT", b"OFF"],
            &[b"CLIENT", b"SETNAME", b"a b"],
            &[b"CLIENT", b"SETNAME", b"worker"],
            &[b"CLIENT", b"GETNAME"],
            &[b"CLIENT", b"ID", b"x"],
            &[b"CLIENT", b"INFO", b"x"],
            &[b"CLIENT", b"HELP", b"x"],
        ],
    );
}

#[test]
fn client_list_and_info_have_redis_fields() {
    let mut both = SideBySide::start();
    for client in [&mut both.theirs, &mut both.ours] {
        assert_eq!(
            client.call(&[b"CLIENT", b"SETNAME", b"me"]),
            Reply::Simple("OK".into())
        );
    }
    let (theirs, ours) = both.call(&[b"CLIENT", b"INFO"]);
    let (theirs, ours) = (fields(&text(&theirs)), fields(&text(&ours)));
    let names = |fields: &[(String, String)]| -> Vec<String> {
        fields.iter().map(|(name, _)| name.clone()).collect()
    };
    // Redis 7.0's fields, in its order, then Redis 7.2's lib-name and lib-ver.
    let mut expected = names(&theirs);
    expected.extend(["lib-name".to_owned(), "lib-ver".to_owned()]);
    assert_eq!(names(&ours), expected);
    let ours: BTreeMap<String, String> = ours.into_iter().collect();
    let theirs: BTreeMap<String, String> = theirs.into_iter().collect();
    for same in [
        "name", "db", "sub", "psub", "ssub", "multi", "flags", "cmd", "user", "redir",
    ] {
        assert_eq!(ours[same], theirs[same], "{same}");
    }
    assert_eq!(ours["laddr"], both.blink.tcp.unwrap().to_string());
    let id = both.ours.call(&[b"CLIENT", b"ID"]);
    assert_eq!(Reply::Integer(ours["id"].parse().unwrap()), id);
    assert_eq!(ours["resp"], "2");
    assert!(ours["fd"].parse::<i64>().unwrap() > 2);

    // CLIENT SETINFO and NO-EVICT show; CLIENT LIST lists every connection.
    let (_, mut other) = both.connect();
    other.call(&[b"CLIENT", b"SETNAME", b"other"]);
    other.call(&[b"CLIENT", b"SETINFO", b"LIB-NAME", b"blink-test"]);
    other.call(&[b"CLIENT", b"SETINFO", b"lib-ver", b"1.2"]);
    other.call(&[b"CLIENT", b"NO-EVICT", b"ON"]);
    other.call(&[b"GET", b"k"]);
    let list = text(&both.ours.call(&[b"CLIENT", b"LIST"]));
    let lines: Vec<BTreeMap<String, String>> = list
        .lines()
        .map(|line| fields(line).into_iter().collect())
        .collect();
    assert_eq!(lines.len(), 2, "{list}");
    let line = lines.iter().find(|line| line["name"] == "other").unwrap();
    assert_eq!(line["lib-name"], "blink-test");
    assert_eq!(line["lib-ver"], "1.2");
    assert_eq!(line["flags"], "e");
    assert_eq!(line["cmd"], "get");
    let other_id = line["id"].clone();
    let by_id = text(
        &both
            .ours
            .call(&[b"CLIENT", b"LIST", b"ID", other_id.as_bytes(), b"0"]),
    );
    assert_eq!(by_id.lines().count(), 1);
    assert!(by_id.starts_with(&format!("id={other_id} ")), "{by_id}");
    let normal = text(&both.ours.call(&[b"CLIENT", b"LIST", b"TYPE", b"NORMAL"]));
    assert_eq!(normal.lines().count(), 2);

    // Over the Unix socket: Redis's `path:0` addresses and the `U` flag.
    let socket = both.blink.unix.clone().unwrap();
    let mut unix = common::Resp(common::Client::unix(&socket));
    let info: BTreeMap<String, String> = fields(&text(&unix.call(&[b"CLIENT", b"INFO"])))
        .into_iter()
        .collect();
    let path = format!("{}:0", socket.display());
    assert_eq!((&info["addr"], &info["laddr"]), (&path, &path));
    assert_eq!(info["flags"], "U");
}

#[test]
fn client_kill_closes_the_other_connection() {
    let server = Server::start(&[]);
    let addr = server.tcp.unwrap();
    let mut killer = common::Resp::connect(addr);
    let id = |client: &mut common::Resp| match client.call(&[b"CLIENT", b"ID"]) {
        Reply::Integer(id) => id.to_string(),
        other => panic!("{other:?}"),
    };

    // By id: the victim is closed at once.
    let mut victim = common::Resp::connect(addr);
    let victim_id = id(&mut victim);
    let killed = killer.call(&[b"CLIENT", b"KILL", b"ID", victim_id.as_bytes()]);
    assert_eq!(killed, Reply::Integer(1));
    assert_eq!(victim.read(), None, "the killed connection is closed");
    wait_for("the killed client to leave CLIENT LIST", || {
        let list = text(&killer.call(&[b"CLIENT", b"LIST"]));
        !list.contains(&format!("id={victim_id} "))
    });

    // The old form, by address: OK, then the address is no longer there.
    let mut victim = common::Resp::connect(addr);
    let victim_id = id(&mut victim);
    let line = text(&killer.call(&[b"CLIENT", b"LIST", b"ID", victim_id.as_bytes()]));
    let victim_addr = fields(&line)
        .into_iter()
        .find(|(name, _)| name == "addr")
        .unwrap()
        .1;
    let killed = killer.call(&[b"CLIENT", b"KILL", victim_addr.as_bytes()]);
    assert_eq!(killed, Reply::Simple("OK".into()));
    assert_eq!(victim.read(), None);
    wait_for("the address to be gone", || {
        killer.call(&[b"CLIENT", b"KILL", victim_addr.as_bytes()])
            == Reply::Error("ERR No such client".into())
    });

    // Itself: skipped unless SKIPME no, and then closed after its reply.
    let killer_id = id(&mut killer);
    let skipped = killer.call(&[b"CLIENT", b"KILL", b"ID", killer_id.as_bytes()]);
    assert_eq!(skipped, Reply::Integer(0));
    killer.queue(&[
        b"CLIENT",
        b"KILL",
        b"ID",
        killer_id.as_bytes(),
        b"SKIPME",
        b"no",
    ]);
    killer.queue(&[b"PING"]);
    assert_eq!(killer.read(), Some(Reply::Integer(1)));
    assert_eq!(killer.read(), None, "nothing after the kill is executed");
}

/// Commands, each its arguments.
type Script<'a> = &'a [&'a [&'a [u8]]];

/// Sends the commands in one write, then an ECHO of a marker, and returns every byte
/// that came back before the marker.
fn replies_before_marker(client: &mut common::Client, commands: &[&[&[u8]]]) -> Vec<u8> {
    let mut batch = Vec::new();
    for command in commands {
        batch.extend(common::resp_command(command));
    }
    batch.extend(common::resp_command(&[b"ECHO", b"end-of-script"]));
    client.send(&batch);
    let mut got = Vec::new();
    loop {
        let line = client.read_line();
        if line == b"end-of-script\r\n" {
            let header = b"$13\r\n";
            assert!(got.ends_with(header));
            got.truncate(got.len() - header.len());
            return got;
        }
        got.extend_from_slice(&line);
    }
}

#[test]
fn client_reply_off_and_skip_silence_replies_as_redis_does() {
    let both = SideBySide::start();
    let scripts: &[(Script, &[u8])] = &[
        (
            &[
                &[b"CLIENT", b"REPLY", b"OFF"],
                &[b"SET", b"a", b"1"],
                &[b"GET", b"a"],
                &[b"GET"],
                &[b"CLIENT", b"REPLY", b"ON"],
                &[b"GET", b"a"],
            ],
            b"+OK\r\n$1\r\n1\r\n",
        ),
        (
            &[
                &[b"CLIENT", b"REPLY", b"SKIP"],
                &[b"SET", b"b", b"2"],
                &[b"GET", b"b"],
            ],
            b"$1\r\n2\r\n",
        ),
        (
            &[
                &[b"CLIENT", b"REPLY", b"SKIP"],
                &[b"CLIENT", b"REPLY", b"SKIP"],
                &[b"PING", b"one"],
                &[b"PING", b"two"],
            ],
            b"$3\r\ntwo\r\n",
        ),
        (
            &[
                &[b"CLIENT", b"REPLY", b"OFF"],
                &[b"CLIENT", b"REPLY", b"SKIP"],
                &[b"PING"],
                &[b"CLIENT", b"REPLY", b"ON"],
                &[b"PING"],
            ],
            b"+OK\r\n+PONG\r\n",
        ),
    ];
    for (commands, expected) in scripts {
        let mut theirs = common::Client::tcp(both.redis.addr().parse().unwrap());
        let mut ours = common::Client::tcp(both.blink.tcp.unwrap());
        let want = replies_before_marker(&mut theirs, commands);
        assert_eq!(common::show(&want), common::show(expected), "Redis");
        let got = replies_before_marker(&mut ours, commands);
        assert_eq!(common::show(&got), common::show(expected), "Blink Store");
    }
}

#[test]
fn config_get_and_set_answer_and_fail_as_redis_does() {
    let mut both = SideBySide::start();
    run_script(
        &mut both,
        &[
            &[b"CONFIG"],
            &[b"CONFIG", b"NOPE"],
            &[b"CONFIG", b"GET"],
            &[b"CONFIG", b"GET", b"nope", b"no*pe"],
            &[b"CONFIG", b"SET", b"maxmemory"],
            &[b"CONFIG", b"SET", b"a", b"b", b"c"],
            &[b"CONFIG", b"SET", b"nope", b"1"],
            &[b"CONFIG", b"SET", b"timeout", b"1", b"nope", b"1"],
            &[b"CONFIG", b"SET", b"databases", b"1", b"nope", b"1"],
            &[b"CONFIG", b"SET", b"TIMEOUT", b"1", b"timeout", b"2"],
            &[b"CONFIG", b"SET", b"timeout", b"x"],
            &[b"CONFIG", b"SET", b"timeout", b"-1"],
            &[b"CONFIG", b"SET", b"timeout", b"7", b"maxmemory", b"10x"],
            &[b"CONFIG", b"GET", b"timeout"],
            &[b"CONFIG", b"SET", b"maxmemory", b"-1"],
            &[b"CONFIG", b"SET", b"maxclients", b"0"],
            &[b"CONFIG", b"SET", b"slowlog-log-slower-than", b"-2"],
            &[b"CONFIG", b"SET", b"slowlog-max-len", b"abc"],
            &[b"CONFIG", b"SET", b"appendonly", b"maybe"],
            &[b"CONFIG", b"SET", b"save", b"", b"appendonly", b"no"],
            &[b"CONFIG", b"SET", b"databases", b"16"],
            &[
                b"CONFIG",
                b"SET",
                b"timeout",
                b"7",
                b"slowlog-max-len",
                b"5",
                b"slowlog-log-slower-than",
                b"1000",
                b"maxmemory-samples",
                b"9",
            ],
            &[b"CONFIG", b"GET", b"timeout"],
            &[b"CONFIG", b"GET", b"maxmemory-samples"],
            &[b"CONFIG", b"RESETSTAT", b"x"],
            &[b"CONFIG", b"RESETSTAT"],
            &[b"CONFIG", b"HELP", b"x"],
        ],
    );
    // Deliberately narrower than Redis: the sample size the evictor supports.
    let samples = both
        .ours
        .call(&[b"CONFIG", b"SET", b"maxmemory-samples", b"65"]);
    let samples_error = "ERR CONFIG SET failed (possibly related to argument \
                         'maxmemory-samples') - argument must be between 1 and 64 inclusive";
    assert_eq!(samples, Reply::Error(samples_error.into()));
    // Several patterns, each parameter once, as a map (Redis's order is its hash
    // table's): those that both have and that are set alike have the same values.
    let command: &[&[u8]] = &[
        b"CONFIG",
        b"GET",
        b"slowlog*",
        b"TIMEOUT",
        b"*-samples",
        b"timeout",
    ];
    let (theirs, ours) = both.call(command);
    let map = |reply: Reply| -> BTreeMap<String, String> {
        items(reply)
            .chunks(2)
            .map(|pair| (text(&pair[0]), text(&pair[1])))
            .collect()
    };
    assert_eq!(map(ours), map(theirs));
    let ours = map(both.ours.call(&[b"CONFIG", b"GET", b"*"]));
    let theirs = map(both.theirs.call(&[b"CONFIG", b"GET", b"*"]));
    for name in ours.keys() {
        assert!(theirs.contains_key(name), "{name} is not Redis's");
    }
}

#[test]
fn config_set_requirepass_and_maxclients_apply_to_new_connections() {
    let mut both = SideBySide::start();
    run_script(
        &mut both,
        &[&[b"CONFIG", b"SET", b"requirepass", b"s3cret"]],
    );
    let (mut theirs, mut ours) = both.connect();
    for command in [
        &[&b"PING"[..]][..],
        &[b"AUTH", b"nope"],
        &[b"AUTH", b"s3cret"],
        &[b"PING"],
    ] {
        assert_eq!(
            ours.call(command),
            theirs.call(command),
            "{:?}",
            show_args(command)
        );
    }
    // Connections that authenticated before, or that needed not, stay usable.
    run_script(
        &mut both,
        &[
            &[b"PING"],
            &[b"CONFIG", b"GET", b"requirepass"],
            &[b"CONFIG", b"SET", b"requirepass", b""],
        ],
    );
    let (mut theirs, mut ours) = both.connect();
    assert_eq!(ours.call(&[b"PING"]), theirs.call(&[b"PING"]));

    // A lowered limit refuses new connections, and INFO counts the refusal.
    let blink = both.blink.tcp.unwrap();
    let connected =
        info_fields(&both.ours.call(&[b"INFO", b"clients"]))["connected_clients"].clone();
    both.ours
        .call(&[b"CONFIG", b"SET", b"maxclients", connected.as_bytes()]);
    let mut refused = common::Client::tcp(blink);
    let refusal = String::from_utf8(refused.read_to_end()).unwrap();
    assert!(refusal.contains("too many connections"), "{refusal}");
    let stats = info_fields(&both.ours.call(&[b"INFO", b"stats"]));
    assert_eq!(stats["rejected_connections"], "1");
    both.ours.call(&[b"CONFIG", b"SET", b"maxclients", b"100"]);
    let mut admitted = common::Resp::connect(blink);
    assert_eq!(admitted.call(&[b"PING"]), Reply::Simple("PONG".into()));
}

#[test]
fn config_set_timeout_closes_idle_connections() {
    let server = Server::start(&[]);
    let mut admin = common::Resp::connect(server.tcp.unwrap());
    admin.call(&[b"CONFIG", b"SET", b"timeout", b"1"]);
    let mut idle = common::Client::tcp(server.tcp.unwrap());
    idle.send(&common::resp_command(&[b"PING"]));
    common::expect(&mut idle, b"+PONG\r\n");
    assert_eq!(idle.read_to_end(), b"", "closed after a second idle");
}

#[test]
fn config_set_maxmemory_moves_the_limit_info_reports_and_eviction_keeps() {
    let server = Server::start(&["--memory-limit", "16MiB"]);
    let mut client = common::Resp::connect(server.tcp.unwrap());
    let value = vec![b'v'; 1000];
    for i in 0..6000 {
        let key = format!("key:{i}");
        client.queue(&[b"SET", key.as_bytes(), &value]);
    }
    for _ in 0..6000 {
        assert_eq!(client.read(), Some(Reply::Simple("OK".into())));
    }
    let memory = info_fields(&client.call(&[b"INFO", b"memory"]));
    assert_eq!(memory["maxmemory"], (16 << 20).to_string());
    assert!(memory["used_memory"].parse::<u64>().unwrap() > 4 << 20);

    let set = client.call(&[
        b"CONFIG",
        b"SET",
        b"maxmemory",
        b"2mb",
        b"maxmemory-policy",
        b"allkeys-lru",
    ]);
    assert_eq!(set, Reply::Simple("OK".into()));
    let config = client.call(&[b"CONFIG", b"GET", b"maxmemory", b"maxmemory-policy"]);
    let config: Vec<String> = items(config).iter().map(text).collect();
    assert_eq!(
        config,
        ["maxmemory", "2097152", "maxmemory-policy", "allkeys-lru"]
    );
    wait_for("eviction down to the new limit", || {
        let memory = info_fields(&client.call(&[b"INFO", b"memory"]));
        memory["used_memory"].parse::<u64>().unwrap() <= 2 << 20
    });
    let info = info_fields(&client.call(&[b"INFO"]));
    assert_eq!(info["maxmemory"], (2 << 20).to_string());
    assert_eq!(info["maxmemory_policy"], "allkeys-lru");
    assert!(info["evicted_keys"].parse::<u64>().unwrap() > 3000);
    let Reply::Integer(keys) = client.call(&[b"DBSIZE"]) else {
        panic!("DBSIZE is an integer");
    };
    assert!(keys < 2100, "{keys} keys of 1000 bytes in 2 MiB");
}

#[test]
fn slowlog_keeps_slow_commands_as_redis_does() {
    let mut both = SideBySide::start();
    let long = vec![b'x'; 200];
    let many: Vec<&[u8]> = [&b"MGET"[..]]
        .into_iter()
        .chain(std::iter::repeat_n(&b"k"[..], 40))
        .collect();
    run_script(
        &mut both,
        &[
            &[b"SLOWLOG"],
            &[b"SLOWLOG", b"NOPE"],
            &[b"SLOWLOG", b"GET", b"-2"],
            &[b"SLOWLOG", b"GET", b"x"],
            &[b"SLOWLOG", b"GET", b"1", b"2"],
            &[b"SLOWLOG", b"LEN", b"x"],
            &[b"SLOWLOG", b"RESET", b"x"],
            &[b"SLOWLOG", b"HELP"],
            &[b"CONFIG", b"SET", b"slowlog-log-slower-than", b"0"],
            &[b"SLOWLOG", b"RESET"],
            &[b"CLIENT", b"SETNAME", b"slow"],
            &[b"SET", b"k", &long],
            &many,
            &[b"CONFIG", b"SET", b"requirepass", b"pw", b"timeout", b"0"],
            &[b"CONFIG", b"SET", b"requirepass", b""],
            &[b"GET"],
            &[b"SLOWLOG", b"LEN"],
        ],
    );
    // Entries: id, time, microseconds, arguments, address, name; compared but for the
    // numbers and the address, which differ between servers.
    let entries = |reply: Reply| -> Vec<(Reply, Reply)> {
        items(reply)
            .into_iter()
            .map(|entry| {
                let mut entry = items(entry);
                assert_eq!(entry.len(), 6);
                assert!(matches!(
                    entry[0..3],
                    [Reply::Integer(_), Reply::Integer(_), Reply::Integer(_)]
                ));
                let name = entry.pop().unwrap();
                let _addr = entry.pop();
                (entry.pop().unwrap(), name)
            })
            .collect()
    };
    let (theirs, ours) = both.call(&[b"SLOWLOG", b"GET", b"-1"]);
    assert_eq!(entries(ours), entries(theirs));
    let (theirs, ours) = both.call(&[b"SLOWLOG", b"GET"]);
    assert_eq!(entries(ours), entries(theirs));

    // An entry's address is the client's, as CLIENT LIST shows it.
    let info = text(&both.ours.call(&[b"CLIENT", b"INFO"]));
    let addr = fields(&info)
        .into_iter()
        .find(|(name, _)| name == "addr")
        .unwrap()
        .1;
    let newest = items(items(both.ours.call(&[b"SLOWLOG", b"GET", b"1"])).remove(0));
    assert_eq!(text(&newest[4]), addr);
    assert_eq!(text(&newest[5]), "slow");

    // A shorter log keeps the newest; a negative threshold logs nothing.
    run_script(
        &mut both,
        &[
            &[b"CONFIG", b"SET", b"slowlog-max-len", b"2"],
            &[b"PING"],
            &[b"SLOWLOG", b"LEN"],
            &[b"CONFIG", b"SET", b"slowlog-log-slower-than", b"-1"],
            &[b"SLOWLOG", b"RESET"],
            &[b"PING"],
            &[b"SLOWLOG", b"LEN"],
        ],
    );
}

#[test]
fn info_counts_commands_and_errors_as_redis_does() {
    let mut both = SideBySide::start();
    let script: &[&[&[u8]]] = &[
        &[b"CONFIG", b"RESETSTAT"],
        &[b"SET", b"a", b"1"],
        &[b"GET", b"a"],
        &[b"GET"],
        &[b"GET", b"a", b"b"],
        &[b"SET", b"a", b"b", b"NOPE"],
        &[b"INCR", b"a"],
        &[b"EXPIRE", b"a", b"10", b"NOPE"],
        &[b"CLIENT", b"SETNAME", b"x"],
        &[b"CLIENT", b"NOPE"],
        &[b"NOPE"],
        &[b"PING"],
        &[b"MSET", b"a"],
        &[b"DEL", b"a"],
        &[b"HELLO", b"4"],
        &[b"CONFIG", b"GET", b"timeout"],
    ];
    run_script(&mut both, script);
    let (theirs, ours) = both.call(&[b"INFO", b"commandstats", b"errorstats", b"stats"]);
    let (theirs, ours) = (info_fields(&theirs), info_fields(&ours));
    // Calls, rejections and failures per command; not the microseconds.
    let counts = |fields: &BTreeMap<String, String>| -> BTreeMap<String, String> {
        fields
            .iter()
            .filter(|(name, _)| name.starts_with("cmdstat_"))
            .map(|(name, value)| {
                let kept: Vec<&str> = value
                    .split(',')
                    .filter(|part| !part.starts_with("usec"))
                    .collect();
                (name.clone(), kept.join(","))
            })
            .collect()
    };
    assert_eq!(counts(&ours), counts(&theirs));
    for name in [
        "errorstat_ERR",
        "errorstat_NOPROTO",
        "total_commands_processed",
        "total_error_replies",
    ] {
        assert_eq!(ours.get(name), theirs.get(name), "{name}");
    }
    assert!(
        ours["cmdstat_get"].starts_with("calls=1,usec="),
        "{}",
        ours["cmdstat_get"]
    );

    // Default sections leave out commandstats; all and everything have it.
    let sections = |reply: Reply| -> Vec<String> {
        text(&reply)
            .lines()
            .filter_map(|line| line.strip_prefix("# "))
            .map(str::to_owned)
            .collect()
    };
    let default = sections(both.ours.call(&[b"INFO"]));
    for section in ["Server", "Stats", "CPU", "Errorstats", "Keyspace"] {
        assert!(
            default.contains(&section.to_owned()),
            "{section} in {default:?}"
        );
    }
    assert!(!default.contains(&"Commandstats".to_owned()));
    for all in [&b"all"[..], b"EVERYTHING"] {
        assert!(sections(both.ours.call(&[b"INFO", all])).contains(&"Commandstats".to_owned()));
    }
    let cpu = info_fields(&both.ours.call(&[b"INFO", b"cpu"]));
    for name in ["used_cpu_sys", "used_cpu_user"] {
        assert!(cpu[name].parse::<f64>().unwrap() >= 0.0, "{name}");
    }
}

#[test]
fn commands_pipelined_before_info_are_counted_by_it() {
    let server = Server::start(&[]);
    let mut resp = common::Resp::connect(server.tcp.unwrap());
    let mut batch = common::resp_command(&[b"CONFIG", b"RESETSTAT"]);
    for _ in 0..5 {
        batch.extend(common::resp_command(&[b"GET", b"a"]));
    }
    batch.extend(common::resp_command(&[b"INFO", b"commandstats"]));
    // One write: the GETs, counted together as a run, and INFO run in one batch.
    resp.0.send(&batch);
    for _ in 0..6 {
        resp.read().expect("a reply");
    }
    let info = info_fields(&resp.read().expect("INFO's reply"));
    assert!(
        info["cmdstat_get"].starts_with("calls=5,usec="),
        "{}",
        info["cmdstat_get"]
    );
}
