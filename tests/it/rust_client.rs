//! `blink_store::Client`, async and blocking, against the real server over TCP and a Unix
//! socket: every method, pipelines, binary values, refusals, reconnecting after the
//! server closed the connection, and a clear error when nothing listens.

use crate::common;

use std::time::Duration;

use blink_store::client::blocking;
use blink_store::client::{Command, Endpoint, Error, Response, Ttl};
use blink_store::Client;
use common::{free_port, http_get, Server};

/// Every byte a line-protocol value may hold: all but LF (and a CR only mid-value).
fn binary_value() -> Vec<u8> {
    let mut value: Vec<u8> = (0..=255u8).filter(|&b| b != b'\n').collect();
    value.push(b'x');
    value
}

#[tokio::test]
async fn the_async_client_speaks_every_command_over_tcp_and_unix() {
    let server = Server::start(&[]);
    let endpoints = [
        Endpoint::Tcp(server.tcp_arg()),
        Endpoint::Unix(server.unix.clone().unwrap()),
    ];
    for endpoint in endpoints {
        let mut client = Client::connect(endpoint).await.unwrap();
        client.ping().await.unwrap();
        client.set("user", "alice").await.unwrap();
        assert_eq!(client.get("user").await.unwrap(), Some(b"alice".to_vec()));
        assert_eq!(client.get("nobody").await.unwrap(), None);
        assert_eq!(client.usage().await.unwrap(), 9);
        assert_eq!(client.ttl("user").await.unwrap(), Some(Ttl::Forever));
        assert!(client
            .expire("user", Duration::from_secs(100))
            .await
            .unwrap());
        assert_eq!(
            client.ttl("user").await.unwrap(),
            Some(Ttl::Expires(Duration::from_secs(100)))
        );
        assert!(client.persist("user").await.unwrap());
        assert!(!client
            .expire("nobody", Duration::from_secs(1))
            .await
            .unwrap());
        assert_eq!(client.ttl("nobody").await.unwrap(), None);
        let info = client.info().await.unwrap();
        assert!(info
            .iter()
            .any(|(name, value)| name == "keys" && value == "1"));
        let value = binary_value();
        client.set("bin", &value).await.unwrap();
        assert_eq!(client.get("bin").await.unwrap(), Some(value));
        assert!(client.delete("user").await.unwrap());
        assert!(!client.delete("user").await.unwrap());
        assert!(client.delete("bin").await.unwrap());
    }
}

#[tokio::test]
async fn pipelines_answer_in_order_and_refusals_stand_alone() {
    let server = Server::start(&["--max-value-size", "8"]);
    let mut client = Client::connect_tcp(server.tcp_arg()).await.unwrap();
    let replies = client
        .pipeline(&[
            Command::Set(b"a", b"1"),
            Command::Set(b"b", b"far too long"),
            Command::Get(b"a"),
            Command::Get(b"b"),
            Command::Delete(b"a"),
            Command::Usage,
            Command::Ping,
        ])
        .await
        .unwrap();
    assert_eq!(
        replies,
        [
            Response::Done,
            Response::Refused("value too large (max 8 bytes)".into()),
            Response::Value(Some(b"1".to_vec())),
            Response::Value(None),
            Response::Deleted(true),
            Response::Usage(0),
            Response::Done,
        ]
    );
}

#[tokio::test]
async fn bad_input_is_refused_before_sending_and_errors_are_typed() {
    let server = Server::start(&["--max-key-size", "4"]);
    let mut client = Client::connect_tcp(server.tcp_arg()).await.unwrap();
    assert!(matches!(
        client.set("k", "a\nb").await,
        Err(Error::InvalidValue)
    ));
    assert!(matches!(
        client.set("k", "ab\r").await,
        Err(Error::InvalidValue)
    ));
    assert!(matches!(client.get("a b").await, Err(Error::InvalidKey)));
    assert!(matches!(
        client.get("toolong").await,
        Err(Error::Server(text)) if text == "key too long (max 4 bytes)"
    ));
    client.ping().await.unwrap();
}

#[tokio::test]
async fn the_client_reconnects_after_the_server_closed_the_connection() {
    let server = Server::start(&[]);
    let mut client = Client::connect_tcp(server.tcp_arg()).await.unwrap();
    client.set("k", "v").await.unwrap();
    // QUIT has no reply: the server closes, and even a retry finds it closed.
    assert!(matches!(client.request(b"QUIT").await, Err(Error::Closed)));
    assert_eq!(client.get("k").await.unwrap(), Some(b"v".to_vec()));
}

#[test]
fn the_blocking_client_works_and_a_dead_server_is_a_clear_error() {
    let server = Server::start(&[]);
    let mut client = blocking::Client::connect_unix(server.unix.clone().unwrap()).unwrap();
    client.set("k", "v").unwrap();
    assert_eq!(client.get("k").unwrap(), Some(b"v".to_vec()));
    assert_eq!(client.usage().unwrap(), 2);
    let replies = client
        .pipeline(&[Command::Get(b"k"), Command::Delete(b"k")])
        .unwrap();
    assert_eq!(
        replies,
        [
            Response::Value(Some(b"v".to_vec())),
            Response::Deleted(true)
        ]
    );
    let addr = format!("127.0.0.1:{}", free_port());
    let Err(err) = blocking::Client::connect_tcp(addr.clone()) else {
        panic!("connected to a closed port");
    };
    assert!(
        err.to_string()
            .starts_with(&format!("cannot connect to Blink Store at {addr}: ")),
        "{err}"
    );
}

#[allow(dead_code)]
#[path = "../../examples/clients/rust/backend.rs"]
mod backend;

#[allow(dead_code)]
#[path = "../../examples/clients/rust/example.rs"]
mod example;

/// One HTTP GET to `addr` that must succeed; the response body.
fn get_body(addr: std::net::SocketAddr, path: &str) -> String {
    let response = http_get(addr, path);
    assert_eq!(response.status, 200, "{}", response.body);
    response.body
}

#[test]
fn the_backend_example_serves_a_lookup_from_the_cache_the_second_time() {
    let server = Server::start(&[]);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let endpoint = Endpoint::Unix(server.unix.clone().unwrap());
    std::thread::spawn(move || backend::serve(listener, endpoint).map_err(|err| err.to_string()));
    let first = get_body(addr, "/user/alice");
    assert_eq!(
        first,
        r#"{"user":"alice","profile":"profile of alice","cached":false}"#
    );
    let second = get_body(addr, "/user/alice");
    assert_eq!(
        second,
        r#"{"user":"alice","profile":"profile of alice","cached":true}"#
    );
    let mut client = blocking::Client::connect_tcp(server.tcp_arg()).unwrap();
    assert!(matches!(
        client.ttl("profile:alice").unwrap(),
        Some(Ttl::Expires(ttl)) if ttl <= backend::CACHE_TTL
    ));
}

#[test]
fn the_client_example_runs_against_the_server() {
    let server = Server::start(&[]);
    std::env::set_var("BLINK_ADDR", server.tcp_arg());
    example::main().unwrap();
    let mut client = blocking::Client::connect_tcp(server.tcp_arg()).unwrap();
    assert_eq!(client.get("user").unwrap(), Some(b"alice".to_vec()));
    assert_eq!(client.get("a").unwrap(), None, "the pipeline deleted it");
}
