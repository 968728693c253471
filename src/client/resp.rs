//! The client over RESP: each command goes out as an array of bulk strings, so every
//! argument arrives intact whatever bytes it holds (spaces, line ends, nothing at all), and
//! each reply comes back as a [`Reply`]. The server picks RESP for a connection from its
//! first byte, so a connection opened here speaks nothing else.

use tokio::io::{AsyncBufRead, AsyncReadExt as _, AsyncWriteExt, BufReader};

use super::{open, read_line_into, Endpoint, Error, Stream, MAX_REPLY_LEN};

/// The longest line of a reply (a status, an error, a length) read before giving up on
/// it; far above any the server sends.
const MAX_LINE_LEN: usize = 1 << 20;

/// Arrays nested deeper than this are refused rather than followed; the server's replies
/// nest two levels at most.
const MAX_DEPTH: usize = 32;

/// Elements reserved up front for an array, whatever length it claims; a longer one grows
/// as its elements arrive.
const RESERVED_ITEMS: usize = 1024;

/// A reply, as RESP types it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A simple string, such as `OK` or `PONG`.
    Status(String),
    /// A refusal: its text opens with an error code, as in `ERR syntax error`.
    Error(String),
    /// An integer.
    Integer(i64),
    /// A bulk string: a value, or text such as INFO's.
    Bulk(Vec<u8>),
    /// Nothing: a missing key, for one.
    Nil,
    /// An array of replies.
    Array(Vec<Reply>),
    /// A map, in the order sent (RESP3's, after `HELLO 3`).
    Map(Vec<(Reply, Reply)>),
}

/// Appends `args` to `out` as one RESP command: an array of bulk strings.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        let arg = arg.as_ref();
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// An async connection to a Blink Store (or Redis) server that sends every command over
/// RESP, and reconnects once when the connection broke since the last command.
pub struct Client {
    /// Where to (re)connect.
    endpoint: Endpoint,
    /// The open connection, if any.
    stream: Option<BufReader<Box<dyn Stream>>>,
}

impl Client {
    /// Connects to `endpoint`.
    ///
    /// # Errors
    /// [`Error::Connect`] if nothing answers.
    pub async fn connect(endpoint: Endpoint) -> Result<Self, Error> {
        let stream = open(&endpoint).await?;
        Ok(Self {
            endpoint,
            stream: Some(stream),
        })
    }

    /// Where this client connects.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Sends one command, its name first (`["SET", "a key", "a\nvalue"]`), and returns the
    /// reply; a refusal is a [`Reply::Error`]. Reconnects and sends it again once if the
    /// connection was broken before anything was answered.
    ///
    /// # Errors
    /// [`Error::EmptyCommand`] for no arguments, [`Error::Io`] or [`Error::Closed`] if the
    /// connection fails, [`Error::Connect`] if reconnecting fails, and
    /// [`Error::UnexpectedReply`] for bytes that are not RESP.
    pub async fn command<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Reply, Error> {
        if args.is_empty() {
            return Err(Error::EmptyCommand);
        }
        let mut request = Vec::new();
        encode_command(args, &mut request);
        match self.try_command(&request).await {
            Err(Error::Io(_) | Error::Closed) => {
                self.stream = Some(open(&self.endpoint).await?);
                self.try_command(&request).await
            }
            other => other,
        }
    }

    async fn try_command(&mut self, request: &[u8]) -> Result<Reply, Error> {
        let stream = match &mut self.stream {
            Some(stream) => stream,
            None => self.stream.insert(open(&self.endpoint).await?),
        };
        let result = async {
            stream.get_mut().write_all(request).await?;
            stream.get_mut().flush().await?;
            read_reply(stream).await
        }
        .await;
        if result.is_err() {
            // Whatever was left half read would be taken for the next reply.
            self.stream = None;
        }
        result
    }
}

/// One line of a reply: a whole reply, or the header of an array or map.
enum Item {
    /// A reply with no elements.
    Reply(Reply),
    /// An array (or a map, whose `len` counts keys and values) of `len` elements.
    Aggregate {
        /// The elements that follow.
        len: usize,
        /// Whether they pair up as keys and values.
        map: bool,
    },
}

/// An array or map being read.
struct Open {
    /// Elements still to come.
    remaining: usize,
    /// Elements read so far.
    items: Vec<Reply>,
    /// Whether the elements pair up as keys and values.
    map: bool,
}

impl Open {
    fn finish(self) -> Reply {
        if !self.map {
            return Reply::Array(self.items);
        }
        let mut items = self.items.into_iter();
        let mut pairs = Vec::with_capacity(items.len() / 2);
        while let (Some(key), Some(value)) = (items.next(), items.next()) {
            pairs.push((key, value));
        }
        Reply::Map(pairs)
    }
}

/// Reads one whole reply, arrays and maps with all their elements. Iterates rather than
/// recursing, so a deep reply costs heap, not stack, up to [`MAX_DEPTH`].
async fn read_reply<R: AsyncBufRead + Unpin>(reader: &mut R) -> Result<Reply, Error> {
    let mut open: Vec<Open> = Vec::new();
    'replies: loop {
        let mut reply = match read_item(reader).await? {
            Item::Reply(reply) => reply,
            Item::Aggregate { len: 0, map } => Open {
                remaining: 0,
                items: Vec::new(),
                map,
            }
            .finish(),
            Item::Aggregate { len, map } => {
                if open.len() == MAX_DEPTH {
                    return Err(Error::UnexpectedReply(format!(
                        "arrays nested more than {MAX_DEPTH} deep"
                    )));
                }
                open.push(Open {
                    remaining: len,
                    items: Vec::with_capacity(len.min(RESERVED_ITEMS)),
                    map,
                });
                continue;
            }
        };
        // Place the reply in the aggregate around it; if that completes it, place the
        // aggregate in turn.
        while let Some(mut parent) = open.pop() {
            parent.items.push(reply);
            parent.remaining -= 1;
            if parent.remaining > 0 {
                open.push(parent);
                continue 'replies;
            }
            reply = parent.finish();
        }
        return Ok(reply);
    }
}

/// Reads one line of a reply and what it starts.
async fn read_item<R: AsyncBufRead + Unpin>(reader: &mut R) -> Result<Item, Error> {
    let line = read_line(reader).await?;
    let unexpected = || Error::UnexpectedReply(String::from_utf8_lossy(&line).into_owned());
    let Some((&kind, rest)) = line.split_first() else {
        return Err(unexpected());
    };
    let text = || String::from_utf8_lossy(rest).into_owned();
    let length = || match rest {
        b"-1" => Ok(None),
        digits => crate::decimal::parse_integer(digits)
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or_else(unexpected),
    };
    Ok(Item::Reply(match kind {
        b'+' => Reply::Status(text()),
        b'-' => Reply::Error(text()),
        b':' => Reply::Integer(crate::decimal::parse_integer(rest).ok_or_else(unexpected)?),
        b'_' => Reply::Nil,
        b'$' => match length()? {
            None => Reply::Nil,
            Some(len) if len > MAX_REPLY_LEN => return Err(unexpected()),
            Some(len) => Reply::Bulk(read_bulk(reader, len).await?),
        },
        b'*' => match length()? {
            None => Reply::Nil,
            Some(len) => return Ok(Item::Aggregate { len, map: false }),
        },
        b'%' => match length()?.and_then(|pairs| pairs.checked_mul(2)) {
            Some(len) => return Ok(Item::Aggregate { len, map: true }),
            None => return Err(unexpected()),
        },
        _ => return Err(unexpected()),
    }))
}

/// One CRLF-terminated line, without its line end.
async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R) -> Result<Vec<u8>, Error> {
    let mut line = Vec::new();
    read_line_into(reader, MAX_LINE_LEN, &mut line).await?;
    Ok(line)
}

/// A bulk string's `len` bytes and the CRLF after them.
async fn read_bulk<R: AsyncBufRead + Unpin>(reader: &mut R, len: usize) -> Result<Vec<u8>, Error> {
    let mut bytes = vec![0; len + 2];
    match reader.read_exact(&mut bytes).await {
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => return Err(Error::Closed),
        Err(err) => return Err(err.into()),
    }
    if !bytes.ends_with(b"\r\n") {
        return Err(Error::UnexpectedReply(
            "a bulk string longer than its length".into(),
        ));
    }
    bytes.truncate(len);
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Result<Reply, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut reader = bytes;
        runtime.block_on(read_reply(&mut reader))
    }

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        let mut out = Vec::new();
        encode_command(&[&b"SET"[..], b"a key", b"line\nbreak", b""], &mut out);
        assert_eq!(
            out,
            b"*4\r\n$3\r\nSET\r\n$5\r\na key\r\n$10\r\nline\nbreak\r\n$0\r\n\r\n"
        );
    }

    #[test]
    fn replies_of_every_type_are_read() {
        use Reply::*;
        let table: &[(&[u8], Reply)] = &[
            (b"+OK\r\n", Status("OK".into())),
            (b"-ERR syntax error\r\n", Error("ERR syntax error".into())),
            (b":-42\r\n", Integer(-42)),
            (b"$5\r\na\r\nbc\r\n", Bulk(b"a\r\nbc".to_vec())),
            (b"$0\r\n\r\n", Bulk(Vec::new())),
            (b"$-1\r\n", Nil),
            (b"_\r\n", Nil),
            (b"*-1\r\n", Nil),
            (b"*0\r\n", Array(Vec::new())),
            (
                b"*3\r\n$1\r\na\r\n$-1\r\n*2\r\n:1\r\n*1\r\n+x\r\n",
                Array(vec![
                    Bulk(b"a".to_vec()),
                    Nil,
                    Array(vec![Integer(1), Array(vec![Status("x".into())])]),
                ]),
            ),
            (
                b"%2\r\n$5\r\nproto\r\n:3\r\n$7\r\nmodules\r\n*0\r\n",
                Map(vec![
                    (Bulk(b"proto".to_vec()), Integer(3)),
                    (Bulk(b"modules".to_vec()), Array(Vec::new())),
                ]),
            ),
        ];
        for (bytes, expected) in table {
            let got = parse(bytes).unwrap();
            assert_eq!(&got, expected, "{}", bytes.escape_ascii());
        }
    }

    #[test]
    fn broken_replies_are_errors() {
        for bytes in [
            &b"?what\r\n"[..],
            b":x\r\n",
            b"$-2\r\n",
            b"$3\r\nabcd\r\n",
            b"%-1\r\n",
            b"\r\n",
        ] {
            assert!(
                matches!(parse(bytes), Err(Error::UnexpectedReply(_))),
                "{}",
                bytes.escape_ascii()
            );
        }
        for cut in [&b"+OK"[..], b"$5\r\nab", b"*2\r\n:1\r\n", b""] {
            assert!(
                matches!(parse(cut), Err(Error::Closed)),
                "{}",
                cut.escape_ascii()
            );
        }
        let deep = "*1\r\n".repeat(MAX_DEPTH + 1) + ":1\r\n";
        assert!(matches!(
            parse(deep.as_bytes()),
            Err(Error::UnexpectedReply(_))
        ));
    }
}
