//! `blink-store echo`: a minimal server that writes every line it reads straight back,
//! all complete lines of one read with one write. Benchmarks compare the real server's
//! latency against it: it is the floor set by the sockets and the runtime alone.

use bytes::{Buf, BytesMut};
use memchr::memrchr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use blink_store::event_loop::EventLoops;
use blink_store::listener::{self, Accept, Accepted, Listeners, Peer, Serve};
use blink_store::protocol::Wire;

/// The TCP address served when neither `--tcp` nor `--unix` is given: next to the
/// server's default port, so both can run side by side.
pub const DEFAULT_ECHO_TCP: &str = "127.0.0.1:8766";

/// Bytes asked of the socket per read, as the real server asks.
const READ_CHUNK: usize = 16 * 1024;

/// A line longer than this closes the connection: twice the server's longest line with
/// default limits, so every request the server accepts is echoed.
pub const MAX_LINE_LEN: usize = 2 << 20;

/// Echoes on `listeners`, with `loops` event loops as the server runs them, until
/// `shutdown` fires; connections still open then are dropped. The Unix socket file is
/// removed before it returns.
///
/// # Errors
/// If a listener cannot be registered with the runtime, or a loop cannot start.
pub async fn run(
    listeners: Listeners,
    loops: usize,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let echo = Arc::new(Echo {
        loops: EventLoops::start(loops, "blink-echo", blink_store::server::DEFAULT_BUSY_POLLS)?,
    });
    listener::accept_until(listeners, echo.clone(), shutdown).await?;
    echo.loops.stop();
    tracing::info!("shutdown done");
    Ok(())
}

/// The echo server's handler: one task per client, on the server's event loops.
struct Echo {
    loops: EventLoops,
}

impl Accept for Echo {
    fn accept(self: &Arc<Self>, stream: Accepted, peer: Peer, _wire: Wire) {
        self.loops.spawn(async move {
            if let Err(err) = stream.serve(Lines).await {
                tracing::warn!(peer = %peer, cause = %err, "connection closed with error");
            }
        });
    }
}

/// Serves a client by echoing its lines.
struct Lines;

impl Serve for Lines {
    async fn serve<S>(self, stream: S) -> std::io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        echo_lines(stream).await
    }

    /// Never called: the echo server has no TLS listeners.
    fn handshake_failed(self, _cause: &std::io::Error) {}
}

/// Writes back every complete line read from `stream`, until EOF.
///
/// # Errors
/// An I/O error, or a line longer than [`MAX_LINE_LEN`].
pub async fn echo_lines<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) -> std::io::Result<()> {
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    loop {
        buf.reserve(READ_CHUNK);
        if stream.read_buf(&mut buf).await? == 0 {
            return Ok(());
        }
        match memrchr(b'\n', &buf) {
            Some(last) => {
                stream.write_all(&buf[..=last]).await?;
                buf.advance(last + 1);
            }
            None if buf.len() > MAX_LINE_LEN => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("line longer than {MAX_LINE_LEN} bytes"),
                ));
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn echoes_complete_lines_only() {
        let (client, server) = tokio::io::duplex(64);
        let echo = tokio::spawn(echo_lines(server));
        let (mut reader, mut writer) = tokio::io::split(client);
        writer.write_all(b"GET a\nSET b c\nPAR").await.unwrap();
        let mut got = vec![0u8; 14];
        reader.read_exact(&mut got).await.unwrap();
        assert_eq!(got, b"GET a\nSET b c\n");
        writer.write_all(b"TIAL\n").await.unwrap();
        let mut rest = vec![0u8; 8];
        reader.read_exact(&mut rest).await.unwrap();
        assert_eq!(rest, b"PARTIAL\n");
        drop(writer);
        drop(reader);
        echo.await.unwrap().unwrap();
    }
}
