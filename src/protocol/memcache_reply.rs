//! Encodes replies in memcached's words: `VALUE` blocks and `END`, status words, meta
//! return codes with the flags they answer, `STAT` lines, and memcached's error lines.

use std::io::Write as _;

use super::memcache::{
    Hit, ItemFacts, McReply, MetaCode, MetaReply, MetaValue, StatsGroup, StatsReport, Status,
    MEMCACHED_VERSION,
};
use super::{ClientError, ProtocolError, Refusal, Reply};
use crate::store::StoreError;

/// Appends `reply` to `out` as memcached would send it; a silenced reply (`noreply`,
/// quiet meta commands) and QUIT append nothing.
pub fn encode(reply: &Reply<'_>, out: &mut Vec<u8>) {
    match reply {
        Reply::Memcache(reply) => encode_reply(reply, out),
        Reply::Silent | Reply::Close => {}
        Reply::Error(ClientError::Memcache(err)) => {
            if !err.silent {
                line(out, err.line);
            }
        }
        Reply::Error(err) => {
            let _ = write!(out, "CLIENT_ERROR {err}\r\n");
        }
        Reply::Refused(Refusal::Store(err)) => line(out, store_error(err)),
        Reply::Refused(Refusal::TooManyConnections { .. }) => {
            line(out, "ERROR Too many open connections");
        }
        Reply::Refused(refusal) => {
            let _ = write!(out, "SERVER_ERROR {refusal}\r\n");
        }
        Reply::Broken(ProtocolError::LineTooLong { .. }) => {
            line(out, "CLIENT_ERROR line too long");
        }
        Reply::Broken(err) => {
            let _ = write!(out, "CLIENT_ERROR {err}\r\n");
        }
        _ => line(out, "SERVER_ERROR reply has no memcached form"),
    }
}

/// memcached's words for a write the store refused.
pub fn store_error(err: &StoreError) -> &'static str {
    match err {
        StoreError::TooLong { .. } => "SERVER_ERROR object too large for cache",
        _ => "SERVER_ERROR out of memory storing object",
    }
}

fn line(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn encode_reply(reply: &McReply<'_>, out: &mut Vec<u8>) {
    match reply {
        McReply::Values { hits, cas } => {
            for hit in hits {
                value(hit, *cas, out);
            }
            line(out, "END");
        }
        McReply::Status(status) => line(out, status_word(*status)),
        McReply::Number(n) => {
            let _ = write!(out, "{n}\r\n");
        }
        McReply::Version => {
            let _ = write!(out, "VERSION {MEMCACHED_VERSION}\r\n");
        }
        McReply::Stats(report) => stats(report, out),
        McReply::Meta(reply) => meta(reply, out),
        McReply::MetaNoop => line(out, "MN"),
        McReply::Debug(None) => line(out, "EN"),
        McReply::Debug(Some((key, facts))) => {
            out.extend_from_slice(b"ME ");
            out.extend_from_slice(key);
            let fetch = if facts.hit_before { "yes" } else { "no" };
            let _ = write!(
                out,
                " exp={} la={} cas={} fetch={fetch} cls=1 size={}\r\n",
                facts.ttl_secs, facts.idle_secs, facts.cas, facts.size
            );
        }
    }
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Stored => "STORED",
        Status::NotStored => "NOT_STORED",
        Status::Exists => "EXISTS",
        Status::NotFound => "NOT_FOUND",
        Status::Deleted => "DELETED",
        Status::Touched => "TOUCHED",
        Status::Ok => "OK",
        Status::Reset => "RESET",
        Status::TooLarge => "SERVER_ERROR object too large for cache",
        Status::OutOfMemory => "SERVER_ERROR out of memory storing object",
        Status::NonNumeric => "CLIENT_ERROR cannot increment or decrement non-numeric value",
    }
}

/// `VALUE <key> <flags> <bytes> [<cas>]`, then the data block.
fn value(hit: &Hit<'_>, cas: bool, out: &mut Vec<u8>) {
    out.extend_from_slice(b"VALUE ");
    out.extend_from_slice(hit.key);
    let _ = write!(out, " {} {}", hit.flags, hit.value.len());
    if cas {
        let _ = write!(out, " {}", hit.cas);
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(hit.value);
    out.extend_from_slice(b"\r\n");
}

/// A meta reply: the code (`VA <size>` when a value follows), each flag asked for in
/// the order asked, `Z`, `X` and `W` where they apply, then the value.
fn meta(reply: &MetaReply<'_>, out: &mut Vec<u8>) {
    let number;
    let value: Option<&[u8]> = match reply.value {
        MetaValue::None => None,
        MetaValue::Bytes(bytes) => Some(bytes),
        MetaValue::Number(n) => {
            number = n.to_string();
            Some(number.as_bytes())
        }
    };
    match (reply.code, value) {
        (MetaCode::Done, Some(value)) => {
            let _ = write!(out, "VA {}", value.len());
        }
        (MetaCode::Done, None) => out.extend_from_slice(b"HD"),
        (MetaCode::Miss, _) => out.extend_from_slice(b"EN"),
        (MetaCode::NotFound, _) => out.extend_from_slice(b"NF"),
        (MetaCode::NotStored, _) => out.extend_from_slice(b"NS"),
        (MetaCode::Exists, _) => out.extend_from_slice(b"EX"),
    }
    for token in reply.asked.returned() {
        meta_flag(reply, token, out);
    }
    if let Some(facts) = reply.facts {
        // memcached's order; `Z` and `W` never come together.
        let marks = [
            (facts.token_sent, b'Z'),
            (facts.stale, b'X'),
            (facts.won, b'W'),
        ];
        for (_, letter) in marks.into_iter().filter(|(set, _)| *set) {
            out.extend_from_slice(&[b' ', letter]);
        }
    }
    out.extend_from_slice(b"\r\n");
    if let (MetaCode::Done, Some(value)) = (reply.code, value) {
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
}

/// One returned flag: the opaque token and the key always, the item's facts when the
/// reply has an item.
fn meta_flag(reply: &MetaReply<'_>, token: &[u8], out: &mut Vec<u8>) {
    match (token.first().copied().unwrap_or_default(), reply.facts) {
        (b'O', _) => {
            out.push(b' ');
            out.extend_from_slice(token);
        }
        (b'k', _) => {
            out.extend_from_slice(b" k");
            out.extend_from_slice(reply.key.token);
            if reply.key.binary {
                out.extend_from_slice(b" b");
            }
        }
        (_, None) => {}
        (letter, Some(facts)) => fact(letter, &facts, out),
    }
}

fn fact(letter: u8, facts: &ItemFacts, out: &mut Vec<u8>) {
    let _ = match letter {
        b'c' => write!(out, " c{}", facts.cas),
        b'f' => write!(out, " f{}", facts.flags),
        b't' => write!(out, " t{}", facts.ttl_secs),
        b's' => write!(out, " s{}", facts.size),
        b'l' => write!(out, " l{}", facts.idle_secs),
        b'h' => write!(out, " h{}", u8::from(facts.hit_before)),
        _ => Ok(()),
    };
}

/// `STAT <name> <value>` lines for the group asked for, then `END` (`RESET` for a reset).
fn stats(report: &StatsReport, out: &mut Vec<u8>) {
    let mut stat = |name: &str, value: &dyn std::fmt::Display| {
        let _ = write!(out, "STAT {name} {value}\r\n");
    };
    match report.group.unwrap_or(StatsGroup::General) {
        StatsGroup::General => general(report, &mut stat),
        StatsGroup::Settings => {
            stat("maxbytes", &report.limit_maxbytes);
            stat("maxconns", &report.connections.0);
            stat("tcpport", &report.tcp_port);
            stat("verbosity", &0);
            stat("evictions", &"on");
            stat("cas_enabled", &"yes");
            stat("item_size_max", &report.item_size_max);
            stat("num_threads", &report.threads);
            stat("flush_enabled", &"yes");
        }
        StatsGroup::Items => {
            // memcached lists only the slab classes that hold items; Blink Store has one.
            if report.curr_items > 0 {
                stat("items:1:number", &report.curr_items);
                stat("items:1:evicted", &report.evictions);
                stat("items:1:reclaimed", &report.expired);
            }
        }
        StatsGroup::Slabs => {
            if report.curr_items > 0 {
                stat("1:used_chunks", &report.curr_items);
                stat("1:mem_requested", &report.bytes);
                stat("1:get_hits", &report.get.0);
                stat("1:cmd_set", &report.cmd.1);
                stat("1:delete_hits", &report.delete.0);
                stat("1:incr_hits", &report.incr.0);
                stat("1:decr_hits", &report.decr.0);
                stat("1:cas_hits", &report.cas.0);
                stat("1:cas_badval", &report.cas.2);
                stat("1:touch_hits", &report.touch.0);
            }
            stat("active_slabs", &u64::from(report.curr_items > 0));
            stat("total_malloced", &report.charged_bytes);
        }
        StatsGroup::Reset => {
            line(out, "RESET");
            return;
        }
    }
    line(out, "END");
}

/// The general figures, in memcached's order.
fn general(report: &StatsReport, stat: &mut dyn FnMut(&str, &dyn std::fmt::Display)) {
    let seconds = |micros: u64| format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000);
    let (max, open, accepted, rejected) = report.connections;
    let (get, set, flush, touch, meta) = report.cmd;
    stat("pid", &report.pid);
    stat("uptime", &report.uptime);
    stat("time", &report.time);
    stat("version", &MEMCACHED_VERSION);
    stat("pointer_size", &(usize::BITS));
    stat("rusage_user", &seconds(report.rusage_micros.0));
    stat("rusage_system", &seconds(report.rusage_micros.1));
    stat("max_connections", &max);
    stat("curr_connections", &open);
    stat("total_connections", &accepted);
    stat("rejected_connections", &rejected);
    stat("cmd_get", &get);
    stat("cmd_set", &set);
    stat("cmd_flush", &flush);
    stat("cmd_touch", &touch);
    stat("cmd_meta", &meta);
    stat("get_hits", &report.get.0);
    stat("get_misses", &report.get.1);
    stat("delete_misses", &report.delete.1);
    stat("delete_hits", &report.delete.0);
    stat("incr_misses", &report.incr.1);
    stat("incr_hits", &report.incr.0);
    stat("decr_misses", &report.decr.1);
    stat("decr_hits", &report.decr.0);
    stat("cas_misses", &report.cas.1);
    stat("cas_hits", &report.cas.0);
    stat("cas_badval", &report.cas.2);
    stat("touch_hits", &report.touch.0);
    stat("touch_misses", &report.touch.1);
    stat("bytes_read", &report.traffic.0);
    stat("bytes_written", &report.traffic.1);
    stat("threads", &report.threads);
    stat("bytes", &report.bytes);
    stat("curr_items", &report.curr_items);
    stat("total_items", &report.total_items);
    stat("evictions", &report.evictions);
    stat("reclaimed", &report.expired);
    stat("limit_maxbytes", &report.limit_maxbytes);
    stat("accepting_conns", &1);
}

#[cfg(test)]
mod tests {
    use super::super::memcache::{Asked, McError, MetaKey};
    use super::*;

    fn encoded(reply: Reply<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        encode(&reply, &mut out);
        out
    }

    #[test]
    fn text_replies() {
        let hit = Hit {
            key: b"k",
            value: b"hi",
            flags: 5,
            cas: 9,
        };
        let cases: Vec<(Reply<'_>, &[u8])> = vec![
            (
                Reply::Memcache(McReply::Values {
                    hits: vec![hit, hit],
                    cas: false,
                }),
                b"VALUE k 5 2\r\nhi\r\nVALUE k 5 2\r\nhi\r\nEND\r\n",
            ),
            (
                Reply::Memcache(McReply::Values {
                    hits: vec![hit],
                    cas: true,
                }),
                b"VALUE k 5 2 9\r\nhi\r\nEND\r\n",
            ),
            (
                Reply::Memcache(McReply::Values {
                    hits: vec![],
                    cas: true,
                }),
                b"END\r\n",
            ),
            (
                Reply::Memcache(McReply::Status(Status::Stored)),
                b"STORED\r\n",
            ),
            (Reply::Memcache(McReply::Number(42)), b"42\r\n"),
            (Reply::Memcache(McReply::Version), b"VERSION 1.6.18\r\n"),
            (Reply::Memcache(McReply::MetaNoop), b"MN\r\n"),
            (Reply::Silent, b""),
            (Reply::Close, b""),
            (Reply::Error(McError::UNKNOWN.into()), b"ERROR\r\n"),
            (Reply::Error(McError::BAD_FORMAT.noreply(true).into()), b""),
            (
                Reply::Refused(Refusal::Store(StoreError::LargerThanLimit { max_bytes: 1 })),
                b"SERVER_ERROR out of memory storing object\r\n",
            ),
            (
                Reply::Refused(Refusal::TooManyConnections { limit: 1 }),
                b"ERROR Too many open connections\r\n",
            ),
        ];
        for (reply, expected) in cases {
            assert_eq!(
                encoded(reply.clone()).escape_ascii().to_string(),
                expected.escape_ascii().to_string(),
                "{reply:?}"
            );
        }
    }

    #[test]
    fn meta_replies_answer_flags_in_the_order_asked() {
        let asked = Asked::new(b"t k Oxy v c f s l h q", b'g');
        let facts = ItemFacts {
            flags: 3,
            cas: 7,
            ttl_secs: -1,
            size: 2,
            idle_secs: 4,
            hit_before: true,
            stale: true,
            won: true,
            ..ItemFacts::default()
        };
        let hit = MetaReply {
            code: MetaCode::Done,
            value: MetaValue::Bytes(b"hi"),
            facts: Some(facts),
            key: MetaKey {
                token: b"a2V5",
                binary: true,
            },
            asked,
        };
        assert_eq!(
            encoded(Reply::Memcache(McReply::Meta(hit))),
            b"VA 2 t-1 ka2V5 b Oxy c7 f3 s2 l4 h1 X W\r\nhi\r\n"
        );
        let taken = MetaReply {
            value: MetaValue::None,
            facts: Some(ItemFacts {
                token_sent: true,
                won: false,
                hit_before: false,
                ..facts
            }),
            asked: Asked::new(b"h", b'g'),
            ..hit
        };
        assert_eq!(
            encoded(Reply::Memcache(McReply::Meta(taken))),
            b"HD h0 Z X\r\n"
        );
        let miss = MetaReply {
            code: MetaCode::Miss,
            value: MetaValue::None,
            facts: None,
            key: MetaKey::plain(b"key"),
            ..hit
        };
        assert_eq!(
            encoded(Reply::Memcache(McReply::Meta(miss))),
            b"EN kkey Oxy\r\n"
        );
        let number = MetaReply {
            code: MetaCode::Done,
            value: MetaValue::Number(12),
            asked: Asked::default(),
            ..miss
        };
        assert_eq!(
            encoded(Reply::Memcache(McReply::Meta(number))),
            b"VA 2\r\n12\r\n"
        );
    }

    #[test]
    fn stats_lay_out_memcacheds_names() {
        let report = StatsReport {
            curr_items: 3,
            limit_maxbytes: 1024,
            traffic: (10, 20),
            ..StatsReport::default()
        };
        let general = encoded(Reply::Memcache(McReply::Stats(Box::new(report.clone()))));
        let text = String::from_utf8(general).unwrap();
        assert!(text.contains("STAT curr_items 3\r\n"), "{text}");
        assert!(text.contains("STAT limit_maxbytes 1024\r\n"), "{text}");
        assert!(
            text.contains("STAT bytes_read 10\r\nSTAT bytes_written 20\r\n"),
            "{text}"
        );
        assert!(text.contains("STAT version 1.6.18\r\n"), "{text}");
        assert!(text.ends_with("END\r\n"));
        let reset = StatsReport {
            group: Some(StatsGroup::Reset),
            ..report
        };
        assert_eq!(
            encoded(Reply::Memcache(McReply::Stats(Box::new(reset)))),
            b"RESET\r\n"
        );
    }
}
