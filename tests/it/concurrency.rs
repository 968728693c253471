//! Many clients at once, each on its own keys, over both transports.

use crate::common;

use common::{value_reply, Server};

#[test]
fn a_hundred_clients_each_get_their_own_values_back() {
    let server = Server::start(&["--memory-limit", "64MiB"]);
    let threads: Vec<_> = (0..100)
        .map(|client_id| {
            let mut client = if client_id % 2 == 0 {
                server.tcp_client()
            } else {
                server.unix_client()
            };
            std::thread::spawn(move || {
                for i in 0..1_000 {
                    let key = format!("c{client_id}-k{}", i % 50);
                    let value = format!("client {client_id} value {i}");
                    let set = client.request(format!("SET {key} {value}\n").as_bytes());
                    assert_eq!(set, "OK\n");
                    let get = client.request(format!("GET {key}\n").as_bytes());
                    assert_eq!(
                        get.as_bytes(),
                        value_reply(value.as_bytes()),
                        "client {client_id} pair {i}"
                    );
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    // Every client's last 50 values are live: the accounting must match them exactly.
    let mut client = server.tcp_client();
    let expected: u64 = (0..100)
        .flat_map(|c| (950..1_000).map(move |i| (c, i)))
        .map(|(c, i)| {
            (format!("c{c}-k{}", i % 50).len() + format!("client {c} value {i}").len()) as u64
        })
        .sum();
    assert_eq!(client.usage(), expected);
}
