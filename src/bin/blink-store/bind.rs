//! Binding what `serve` and `echo` listen on: TCP listeners with Redis's backlog (every
//! address a host name stands for), the Unix sockets, the TLS listeners with their
//! certificate; and the checks on what is bound: a warning for exposed ports without a
//! password, a refusal of memcached's protocols beside one.

use std::sync::Arc;

use crate::cli::ServeArgs;
use crate::flags::TcpAddr;
#[cfg(unix)]
use crate::unix_socket;
use blink_store::server::Listeners;
use blink_store::tls::ServerTls;

/// Warns loudly when a TCP listener is reachable from other machines and no password
/// protects it: anyone who can reach the port can read and overwrite every key.
pub fn warn_if_exposed(listeners: &Listeners, has_password: bool) {
    if has_password {
        return;
    }
    // Clients of TLS listeners that require a client certificate have proven who they are.
    let client_certs = (listeners.tls.as_ref()).is_some_and(|tls| tls.requires_client_cert());
    let tls = [&listeners.tls_tcp, &listeners.memcache_tls_tcp];
    let tls = tls.into_iter().filter(|_| !client_certs).flatten();
    let tcp = (listeners.tcp.iter())
        .chain(&listeners.resp_tcp)
        .chain(&listeners.memcache_tcp)
        .chain(tls);
    let bound = tcp.filter_map(|l| l.local_addr().ok());
    for addr in bound.filter(|addr| !addr.ip().is_loopback()) {
        tracing::warn!(
            %addr,
            "SECURITY WARNING: listening on a non-loopback address without a password; \
             anyone who can reach this port can read, overwrite and flush every key. \
             Set --requirepass (BLINK_PASSWORD), or listen on 127.0.0.1 or a Unix socket"
        );
    }
}

/// Refuses to serve memcached's protocols beside a password on anything but loopback
/// addresses and Unix sockets: memcached's text protocol has no AUTH, so such a
/// listener would let anyone who reaches it past the password.
pub fn refuse_memcache_beside_password(
    listeners: &Listeners,
    has_password: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    if !has_password {
        return Ok(());
    }
    for listener in listeners
        .memcache_tcp
        .iter()
        .chain(&listeners.memcache_tls_tcp)
    {
        let addr = listener.local_addr()?;
        if !addr.ip().is_loopback() {
            return Err(format!(
                "memcache {addr}: memcached's protocol has no AUTH, so with a password set \
                 a memcached listener must be a loopback address (127.0.0.1, ::1) or a \
                 Unix socket (--memcache-unix)"
            )
            .into());
        }
    }
    Ok(())
}

/// Connections the kernel queues for a listener before they are accepted: Redis's
/// `tcp-backlog`. The standard library's 128 overflows when many clients connect at once,
/// and each overflowed connection waits a second for its SYN to be sent again.
const TCP_BACKLOG: i32 = 1024;

/// A TCP listener with [`TCP_BACKLOG`] and address reuse, so a restarted server can bind
/// while old connections linger in TIME_WAIT.
fn bind_tcp(addr: std::net::SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(TCP_BACKLOG)?;
    Ok(socket.into())
}

/// Binds every address `addr` stands for (a name may have several, as `localhost` may be
/// 127.0.0.1 and ::1), all on one port: the first one's when the port is 0. An address
/// this machine cannot listen on (IPv6 turned off, say) is skipped with a warning, as
/// long as another one binds.
pub fn bind_tcp_all(addr: &TcpAddr) -> Result<Vec<std::net::TcpListener>, String> {
    let resolved = addr.resolve().map_err(|err| format!("tcp {addr}: {err}"))?;
    let mut listeners = Vec::with_capacity(resolved.len());
    let mut port = addr.port();
    let mut first_skipped = None;
    for mut socket_addr in resolved {
        socket_addr.set_port(port);
        let failed = |err: std::io::Error| format!("tcp {socket_addr}: {err}");
        match bind_tcp(socket_addr) {
            Ok(listener) => {
                port = listener.local_addr().map_err(failed)?.port();
                listeners.push(listener);
            }
            Err(err) if is_unavailable(&err) => {
                tracing::warn!(addr = %socket_addr, name = %addr, cause = %err, "skipping an address this machine cannot listen on");
                first_skipped.get_or_insert(failed(err));
            }
            Err(err) => return Err(failed(err)),
        }
    }
    if let (true, Some(err)) = (listeners.is_empty(), first_skipped) {
        return Err(err);
    }
    Ok(listeners)
}

/// Whether binding failed because this machine has no such address or address family.
fn is_unavailable(err: &std::io::Error) -> bool {
    #[cfg(unix)]
    if err.raw_os_error() == Some(rustix::io::Errno::AFNOSUPPORT.raw_os_error()) {
        return true;
    }
    err.kind() == std::io::ErrorKind::AddrNotAvailable
}

/// Binds the listeners `serve` is asked for: those that detect each connection's
/// protocol, then those fixed to RESP, then those fixed to memcached's protocols.
pub fn bind_serve(args: &ServeArgs) -> Result<Listeners, Box<dyn std::error::Error>> {
    let sockets = [
        ("--unix", &args.unix),
        ("--resp-unix", &args.resp_unix),
        ("--memcache-unix", &args.memcache_unix),
    ];
    for (i, (flag, path)) in sockets.iter().enumerate() {
        for (other, other_path) in sockets.iter().skip(i + 1) {
            if let (Some(path), Some(other_path)) = (path, other_path) {
                if path == other_path {
                    let path = path.display();
                    return Err(format!("{path}: {flag} and {other} name the same socket").into());
                }
            }
        }
    }
    let mut listeners = bind(
        args.tcp_addr().as_ref(),
        args.unix.as_deref(),
        args.unix_mode,
    )?;
    let resp = bind(
        args.resp.as_ref(),
        args.resp_unix.as_deref(),
        args.unix_mode,
    )?;
    listeners.resp_tcp = resp.tcp;
    let memcache = bind(
        args.memcache.as_ref(),
        args.memcache_unix.as_deref(),
        args.unix_mode,
    )?;
    listeners.memcache_tcp = memcache.tcp;
    bind_tls(args, &mut listeners)?;
    #[cfg(unix)]
    {
        listeners.resp_unix = resp.unix;
        listeners.memcache_unix = memcache.unix;
    }
    Ok(listeners)
}

/// Binds the TLS listeners asked for, and reads their certificate and key.
fn bind_tls(args: &ServeArgs, listeners: &mut Listeners) -> Result<(), Box<dyn std::error::Error>> {
    let Some(files) = args.tls_files()? else {
        return Ok(());
    };
    let tls =
        ServerTls::load(files, args.tls_handshake_timeout).map_err(|err| format!("tls: {err}"))?;
    listeners.tls = Some(Arc::new(tls));
    if let Some(addr) = &args.tls {
        listeners.tls_tcp = bind_tcp_all(addr)?;
    }
    if let Some(addr) = &args.memcache_tls {
        listeners.memcache_tls_tcp = bind_tcp_all(addr)?;
    }
    Ok(())
}

/// Binds the TCP listeners and the Unix socket asked for.
pub fn bind(
    tcp: Option<&TcpAddr>,
    unix: Option<&std::path::Path>,
    unix_mode: u32,
) -> Result<Listeners, Box<dyn std::error::Error>> {
    let mut listeners = Listeners::default();
    if let Some(addr) = tcp {
        listeners.tcp = bind_tcp_all(addr)?;
    }
    #[cfg(unix)]
    if let Some(path) = unix {
        listeners.unix = Some(unix_socket::bind(path, unix_mode)?);
    }
    #[cfg(not(unix))]
    if let Some(path) = unix {
        let _ = unix_mode;
        return Err(format!(
            "{}: Unix sockets are not supported on this platform",
            path.display()
        )
        .into());
    }
    Ok(listeners)
}
