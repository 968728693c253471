//! A short tour of `blink_store::Client`: set, get, expiry, a pipeline.
//!
//! Run against a server on the default address (or set `BLINK_ADDR=host:port`, or
//! `BLINK_SOCKET=/path/to/socket`):
//!
//! ```sh
//! cargo run --example client
//! ```

use std::time::Duration;

use blink_store::client::{Command, Endpoint, Response};
use blink_store::Client;

/// The server named by `BLINK_SOCKET` or `BLINK_ADDR`, or the default address.
pub fn endpoint_from_env() -> Endpoint {
    match (std::env::var("BLINK_SOCKET"), std::env::var("BLINK_ADDR")) {
        (Ok(path), _) if !path.is_empty() => Endpoint::Unix(path.into()),
        (_, Ok(addr)) if !addr.is_empty() => Endpoint::Tcp(addr),
        _ => Endpoint::Tcp("127.0.0.1:8765".into()),
    }
}

#[tokio::main(flavor = "current_thread")]
pub async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut client = Client::connect(endpoint_from_env()).await?;
    client.set("user", "alice").await?;
    let user = client.get("user").await?;
    println!(
        "user = {}",
        String::from_utf8_lossy(&user.unwrap_or_default())
    );

    client.expire("user", Duration::from_secs(60)).await?;
    println!("ttl = {:?}", client.ttl("user").await?);
    println!("missing = {:?}", client.get("nobody").await?);

    let replies = client
        .pipeline(&[
            Command::Set(b"a", b"1"),
            Command::Get(b"a"),
            Command::Delete(b"a"),
        ])
        .await?;
    for reply in replies {
        match reply {
            Response::Value(Some(value)) => {
                println!("pipelined value = {}", String::from_utf8_lossy(&value))
            }
            other => println!("pipelined {other:?}"),
        }
    }
    println!("usage = {} bytes", client.usage().await?);
    Ok(())
}
