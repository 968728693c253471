//! RESP's layout of the server's structured replies, as Redis 7 lays them out: COMMAND
//! INFO and DOCS from the command table, COMMAND GETKEYSANDFLAGS, a container's HELP,
//! CLIENT LIST's lines and SLOWLOG GET's entries. RESP3 gets Redis's sets and maps where
//! RESP2 gets arrays.

use std::fmt::Write as _;

use super::command_table::{Arg, BeginSearch, CommandSpec, FindKeys, KeySpec};
use super::info::{ClientReport, SlowEntry};
use super::resp::{encode_bulk, encode_header, encode_integer};

/// Writes RESP values, choosing RESP3's types or their RESP2 forms.
pub(super) struct Writer<'o> {
    /// Where the reply goes.
    out: &'o mut Vec<u8>,
    /// Whether the connection speaks RESP3.
    resp3: bool,
}

impl<'o> Writer<'o> {
    /// A writer appending to `out`.
    pub(super) fn new(out: &'o mut Vec<u8>, resp3: bool) -> Self {
        Self { out, resp3 }
    }

    fn array(&mut self, len: usize) {
        encode_header(b'*', len, self.out);
    }

    /// A set: `~` in RESP3, an array in RESP2.
    fn set(&mut self, len: usize) {
        encode_header(if self.resp3 { b'~' } else { b'*' }, len, self.out);
    }

    /// A map of `len` pairs: `%` in RESP3, an array of twice as many in RESP2.
    fn map(&mut self, len: usize) {
        if self.resp3 {
            encode_header(b'%', len, self.out);
        } else {
            encode_header(b'*', len * 2, self.out);
        }
    }

    fn bulk(&mut self, bytes: &[u8]) {
        encode_bulk(bytes, self.out);
    }

    fn status(&mut self, text: &str) {
        self.out.push(b'+');
        self.out.extend_from_slice(text.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    fn integer(&mut self, n: i64) {
        encode_integer(n, self.out);
    }

    fn null(&mut self) {
        if self.resp3 {
            self.out.extend_from_slice(b"_\r\n");
        } else {
            self.out.extend_from_slice(b"$-1\r\n");
        }
    }

    /// A set of simple strings, as Redis writes flag names.
    fn flags<'f>(&mut self, flags: impl ExactSizeIterator<Item = &'f str>) {
        self.set(flags.len());
        for flag in flags {
            self.status(flag);
        }
    }

    /// A bulk string of text: RESP3's verbatim text, a bulk string in RESP2.
    fn verbatim(&mut self, text: &str) {
        if self.resp3 {
            encode_header(b'=', text.len() + 4, self.out);
            self.out.extend_from_slice(b"txt:");
            self.out.extend_from_slice(text.as_bytes());
            self.out.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text.as_bytes());
        }
    }

    /// COMMAND and COMMAND INFO: an entry per row, a null for a name that is none.
    pub(super) fn command_info(&mut self, rows: &[Option<&CommandSpec>]) {
        self.array(rows.len());
        for row in rows {
            match row {
                Some(spec) => self.command_entry(spec),
                None => self.null(),
            }
        }
    }

    /// One command's COMMAND INFO entry: ten fields, subcommands nested.
    fn command_entry(&mut self, spec: &CommandSpec) {
        self.array(10);
        self.bulk(spec.name.as_bytes());
        self.integer(i64::from(spec.arity));
        self.flags(spec.flags.iter().copied());
        self.integer(i64::from(spec.first_key));
        self.integer(i64::from(spec.last_key));
        self.integer(i64::from(spec.step));
        self.flags(spec.acl_categories.iter().copied());
        self.set(spec.tips.len());
        for tip in spec.tips {
            self.bulk(tip.as_bytes());
        }
        self.set(spec.key_specs.len());
        for key_spec in spec.key_specs {
            self.key_spec(key_spec);
        }
        if spec.subcommands.is_empty() {
            self.set(0);
        } else {
            self.array(spec.subcommands.len());
            for sub in spec.subcommands {
                self.command_entry(sub);
            }
        }
    }

    fn key_spec(&mut self, spec: &KeySpec) {
        let notes = !spec.notes.is_empty();
        self.map(3 + usize::from(notes));
        if notes {
            self.bulk(b"notes");
            self.bulk(spec.notes.as_bytes());
        }
        self.bulk(b"flags");
        self.flags(spec.flags.iter().copied());
        self.bulk(b"begin_search");
        self.map(2);
        self.bulk(b"type");
        match spec.begin_search {
            BeginSearch::Index(index) => {
                self.bulk(b"index");
                self.bulk(b"spec");
                self.map(1);
                self.bulk(b"index");
                self.integer(i64::from(index));
            }
            BeginSearch::Keyword {
                keyword,
                start_from,
            } => {
                self.bulk(b"keyword");
                self.bulk(b"spec");
                self.map(2);
                self.bulk(b"keyword");
                self.bulk(keyword.as_bytes());
                self.bulk(b"startfrom");
                self.integer(i64::from(start_from));
            }
            BeginSearch::Unknown => {
                self.bulk(b"unknown");
                self.bulk(b"spec");
                self.map(0);
            }
        }
        self.bulk(b"find_keys");
        self.map(2);
        self.bulk(b"type");
        match spec.find_keys {
            FindKeys::Range {
                last_key,
                step,
                limit,
            } => {
                self.bulk(b"range");
                self.bulk(b"spec");
                self.map(3);
                for (name, n) in [("lastkey", last_key), ("keystep", step), ("limit", limit)] {
                    self.bulk(name.as_bytes());
                    self.integer(i64::from(n));
                }
            }
            FindKeys::KeyNum {
                key_num_index,
                first_key,
                step,
            } => {
                self.bulk(b"keynum");
                self.bulk(b"spec");
                self.map(3);
                for (name, n) in [
                    ("keynumidx", key_num_index),
                    ("firstkey", first_key),
                    ("keystep", step),
                ] {
                    self.bulk(name.as_bytes());
                    self.integer(i64::from(n));
                }
            }
            FindKeys::Unknown => {
                self.bulk(b"unknown");
                self.bulk(b"spec");
                self.map(0);
            }
        }
    }

    /// COMMAND DOCS: a map of each row's name to its documentation.
    pub(super) fn command_docs(&mut self, rows: &[&CommandSpec]) {
        self.map(rows.len());
        for spec in rows {
            self.bulk(spec.name.as_bytes());
            self.docs(spec);
        }
    }

    /// One command's documentation, its fields in Redis's order, empty ones left out.
    fn docs(&mut self, spec: &CommandSpec) {
        let docs = &spec.docs;
        let texts = [
            ("summary", docs.summary),
            ("since", docs.since),
            ("group", docs.group),
            ("complexity", docs.complexity),
        ];
        let present = |text: &&str| !text.is_empty();
        let len = texts.iter().filter(|(_, text)| present(text)).count()
            + usize::from(!docs.doc_flags.is_empty())
            + usize::from(present(&docs.deprecated_since))
            + usize::from(present(&docs.replaced_by))
            + usize::from(!docs.history.is_empty())
            + usize::from(!docs.arguments.is_empty())
            + usize::from(!spec.subcommands.is_empty());
        self.map(len);
        for (name, text) in texts.iter().filter(|(_, text)| present(text)) {
            self.bulk(name.as_bytes());
            self.bulk(text.as_bytes());
        }
        if !docs.doc_flags.is_empty() {
            self.bulk(b"doc_flags");
            self.flags(docs.doc_flags.iter().copied());
        }
        for (name, text) in [
            ("deprecated_since", docs.deprecated_since),
            ("replaced_by", docs.replaced_by),
        ] {
            if present(&text) {
                self.bulk(name.as_bytes());
                self.bulk(text.as_bytes());
            }
        }
        if !docs.history.is_empty() {
            self.bulk(b"history");
            self.set(docs.history.len());
            for (version, change) in docs.history {
                self.array(2);
                self.bulk(version.as_bytes());
                self.bulk(change.as_bytes());
            }
        }
        if !docs.arguments.is_empty() {
            self.bulk(b"arguments");
            self.arguments(docs.arguments);
        }
        if !spec.subcommands.is_empty() {
            self.bulk(b"subcommands");
            self.command_docs(spec.subcommands);
        }
    }

    fn arguments(&mut self, arguments: &[Arg]) {
        self.array(arguments.len());
        for arg in arguments {
            let texts = [
                ("token", arg.token),
                ("summary", arg.summary),
                ("since", arg.since),
                ("deprecated_since", arg.deprecated_since),
            ];
            let len = 2
                + usize::from(arg.key_spec.is_some())
                + texts.iter().filter(|(_, text)| !text.is_empty()).count()
                + usize::from(arg.flags != 0)
                + usize::from(arg.kind.has_arguments());
            self.map(len);
            self.bulk(b"name");
            self.bulk(arg.name.as_bytes());
            self.bulk(b"type");
            self.bulk(arg.kind.name().as_bytes());
            if let Some(index) = arg.key_spec {
                self.bulk(b"key_spec_index");
                self.integer(i64::from(index));
            }
            for (name, text) in texts.iter().filter(|(_, text)| !text.is_empty()) {
                self.bulk(name.as_bytes());
                self.bulk(text.as_bytes());
            }
            if arg.flags != 0 {
                self.bulk(b"flags");
                let names: Vec<&str> = arg.flag_names().collect();
                self.flags(names.into_iter());
            }
            if arg.kind.has_arguments() {
                self.bulk(b"arguments");
                self.arguments(arg.arguments);
            }
        }
    }

    /// COMMAND GETKEYSANDFLAGS: each key with the set of its flags.
    pub(super) fn keys_and_flags(&mut self, keys: &[(&[u8], &[&str])]) {
        self.array(keys.len());
        for (key, flags) in keys {
            self.array(2);
            self.bulk(key);
            self.flags(flags.iter().copied());
        }
    }

    /// A container's HELP: Redis's header naming it, its lines, and Redis's footer, each
    /// a simple string.
    pub(super) fn help(&mut self, spec: &CommandSpec) {
        self.array(spec.help.len() + 3);
        self.status(&format!(
            "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            spec.upper_name()
        ));
        for line in spec.help {
            self.status(line);
        }
        self.status("HELP");
        self.status("    Prints this help.");
    }

    /// CLIENT LIST and CLIENT INFO: one line per client, each ending in a newline.
    pub(super) fn clients(&mut self, clients: &[ClientReport]) {
        let mut text = String::with_capacity(clients.len() * 320);
        for client in clients {
            client_line(client, &mut text);
            text.push('\n');
        }
        self.verbatim(&text);
    }

    /// SLOWLOG GET: each entry as an array of six.
    pub(super) fn slow_log(&mut self, entries: &[SlowEntry]) {
        self.array(entries.len());
        for entry in entries {
            self.array(6);
            self.integer(i64::try_from(entry.id).unwrap_or(i64::MAX));
            self.integer(i64::try_from(entry.unix_secs).unwrap_or(i64::MAX));
            self.integer(i64::try_from(entry.micros).unwrap_or(i64::MAX));
            self.array(entry.args.len());
            for arg in &entry.args {
                self.bulk(arg);
            }
            self.bulk(entry.addr.as_bytes());
            self.bulk(entry.name.as_bytes());
        }
    }
}

/// One client's CLIENT LIST line, with Redis 7.2's fields in its order. Fields that stand
/// for what does not exist here have their idle value: one database, no Pub/Sub, no
/// reply list (replies wait in one buffer), arguments that borrow the read buffer.
fn client_line(client: &ClientReport, out: &mut String) {
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db=0 sub=0 psub=0 \
         ssub=0 multi={} qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs={} rbp={} obl={} \
         oll=0 omem=0 tot-mem={} events={} cmd={} user=default redir=-1 resp={} \
         lib-name={} lib-ver={}",
        client.id,
        client.addr,
        client.laddr,
        client.fd,
        client.name,
        client.age_secs,
        client.idle_secs,
        client.flags,
        client.multi,
        client.query_bytes,
        client.query_free_bytes,
        client.reply_buffer_bytes,
        client.reply_peak_bytes,
        client.output_bytes,
        client.total_memory_bytes,
        if client.writing { "rw" } else { "r" },
        client.last_command,
        client.resp,
        client.lib_name,
        client.lib_version,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::command_table;

    fn encoded(resp3: bool, write: impl FnOnce(&mut Writer<'_>)) -> String {
        let mut out = Vec::new();
        write(&mut Writer::new(&mut out, resp3));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn command_info_is_laid_out_as_redis_lays_it_out() {
        let get = encoded(false, |w| {
            w.command_info(&[Some(&command_table::GET), None])
        });
        assert_eq!(
            get,
            "*2\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n\
             *3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n\
             +RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n\
             $4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n\
             $5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n\
             $5\r\nlimit\r\n:0\r\n*0\r\n$-1\r\n"
        );
        let resp3 = encoded(true, |w| w.command_info(&[Some(&command_table::GET)]));
        assert!(resp3.starts_with("*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly"));
        assert!(
            resp3.contains("~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO"),
            "{resp3}"
        );
    }

    #[test]
    fn docs_leave_out_what_a_command_does_not_have() {
        let get = encoded(false, |w| w.command_docs(&[&command_table::GET]));
        assert_eq!(
            get,
            "*2\r\n$3\r\nget\r\n*10\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n\
             $5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n\
             $4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n*6\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n\
             $3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n"
        );
    }

    #[test]
    fn help_has_redis_header_and_footer() {
        let help = encoded(false, |w| w.help(&command_table::SLOWLOG));
        assert!(help.starts_with(
            "*12\r\n+SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
        ));
        assert!(help.ends_with("+HELP\r\n+    Prints this help.\r\n"));
    }

    #[test]
    fn client_lines_have_redis_fields() {
        let client = ClientReport {
            id: 7,
            addr: "127.0.0.1:5000".into(),
            laddr: "127.0.0.1:6379".into(),
            fd: 9,
            flags: "N".into(),
            multi: -1,
            last_command: "client|list",
            resp: 2,
            ..ClientReport::default()
        };
        let mut line = String::new();
        client_line(&client, &mut line);
        assert_eq!(
            line,
            "id=7 addr=127.0.0.1:5000 laddr=127.0.0.1:6379 fd=9 name= age=0 idle=0 flags=N \
             db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 \
             rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=client|list user=default \
             redir=-1 resp=2 lib-name= lib-ver="
        );
        let reply = encoded(true, |w| w.clients(&[client]));
        assert!(reply.starts_with("=") && reply.contains("txt:id=7 "));
    }
}
