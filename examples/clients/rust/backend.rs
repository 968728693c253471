//! A tiny HTTP service that caches an expensive lookup in Blink Store, with the standard
//! library's sockets and the blocking client: `GET /user/<name>` computes a profile
//! slowly the first time, stores it for 60 seconds, and serves it from the cache after.
//!
//! ```sh
//! PORT=8080 cargo run --example backend     # then: curl localhost:8080/user/alice
//! ```

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use blink_store::client::{blocking::Client, Endpoint};

/// How long a computed profile stays cached.
pub const CACHE_TTL: Duration = Duration::from_secs(60);

/// The expensive lookup: in a real service, a database query or a remote call.
pub fn expensive_lookup(name: &str) -> String {
    std::thread::sleep(Duration::from_millis(200));
    format!("profile of {name}")
}

/// The profile of `name` and whether it came from the cache.
///
/// # Errors
/// If Blink Store cannot be reached or refuses.
pub fn profile(
    cache: &mut Client,
    name: &str,
) -> Result<(String, bool), blink_store::client::Error> {
    let key = format!("profile:{name}");
    if let Some(cached) = cache.get(&key)? {
        return Ok((String::from_utf8_lossy(&cached).into_owned(), true));
    }
    let profile = expensive_lookup(name);
    cache.set(&key, &profile)?;
    cache.expire(&key, CACHE_TTL)?;
    Ok((profile, false))
}

/// Answers one HTTP request.
pub fn handle(mut stream: TcpStream, cache: &mut Client) -> std::io::Result<()> {
    let mut request_line = String::new();
    BufReader::new(&stream).read_line(&mut request_line)?;
    let path = request_line.split(' ').nth(1).unwrap_or("/");
    let (status, body) = match path.strip_prefix("/user/") {
        Some(name) if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            match profile(cache, name) {
                Ok((profile, cached)) => (
                    "200 OK",
                    format!(
                        "{{\"user\":\"{name}\",\"profile\":\"{profile}\",\"cached\":{cached}}}"
                    ),
                ),
                Err(err) => (
                    "503 Service Unavailable",
                    format!("{{\"error\":\"{err}\"}}"),
                ),
            }
        }
        _ => (
            "404 Not Found",
            "{\"error\":\"try /user/<name>\"}".to_owned(),
        ),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Serves requests on `listener`, one at a time, with one connection to the cache.
pub fn serve(listener: TcpListener, endpoint: Endpoint) -> Result<(), Box<dyn std::error::Error>> {
    let mut cache = Client::connect(endpoint)?;
    for stream in listener.incoming() {
        if let Err(err) = handle(stream?, &mut cache) {
            eprintln!("request failed: {err}");
        }
    }
    Ok(())
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = match (std::env::var("BLINK_SOCKET"), std::env::var("BLINK_ADDR")) {
        (Ok(path), _) if !path.is_empty() => Endpoint::Unix(path.into()),
        (_, Ok(addr)) if !addr.is_empty() => Endpoint::Tcp(addr),
        _ => Endpoint::Tcp("127.0.0.1:8765".into()),
    };
    let port = std::env::var("PORT").unwrap_or_else(|_| "8080".into());
    let listener = TcpListener::bind(("127.0.0.1", port.parse::<u16>()?))?;
    println!("listening on http://{}", listener.local_addr()?);
    serve(listener, endpoint)
}
