//! `.ci/readme-quickstart` runs the README's quick start against a server on a port of
//! its own, so it passes while something else listens on the README's port 8765.

use crate::common;

use std::io::ErrorKind;
use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use common::{root, run_with_deadline};

/// Long enough for the script's `cargo build`, which finds the test build's binary fresh.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

#[test]
fn the_quick_start_check_passes_while_port_8765_is_taken() {
    // A listener that never answers: a session sent to it would hang, not pass.
    let holder = match TcpListener::bind("127.0.0.1:8765") {
        Ok(listener) => Some(listener),
        // Taken already, by another program: the case this test is about.
        Err(error) if error.kind() == ErrorKind::AddrInUse => None,
        Err(error) => panic!("cannot bind 127.0.0.1:8765: {error}"),
    };
    let finished = run_with_deadline(
        Command::new(root().join(".ci/readme-quickstart")).current_dir(root()),
        SCRIPT_TIMEOUT,
    );
    finished
        .assert_success(".ci/readme-quickstart")
        .assert_stdout_has(
            ".ci/readme-quickstart",
            "README quick start: 1 passed, 0 failed",
        );
    drop(holder);
}
