//! Just enough networking for readiness checks: whether a loopback port is free, and whether a local HTTP
//! server answers a GET with a success status. A hand-rolled HTTP/1.1 request keeps xtask free of an HTTP stack.

use std::io::{Read, Write};
use std::net::{Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// Whether `port` on 127.0.0.1 can be bound right now.
pub(crate) fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// Whether `port` on [::1] can be bound right now.
pub(crate) fn port_is_free_on_ipv6(port: u16) -> bool {
    TcpListener::bind((Ipv6Addr::LOCALHOST, port)).is_ok()
}

/// Whether this machine has an IPv6 loopback address to serve on (containers often have none).
pub(crate) fn ipv6_loopback_available() -> bool {
    TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok()
}

/// Whether `GET path` on 127.0.0.1:`port` answers with a 2xx status.
pub(crate) fn http_ok(port: u16, path: &str) -> bool {
    http_status(port, path).is_some_and(|status| (200..300).contains(&status))
}

/// The status code of `GET path` on 127.0.0.1:`port`, if anything answered.
pub(crate) fn http_status(port: u16, path: &str) -> Option<u16> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream.set_write_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    // The status line is all we need; it arrives first.
    let mut head = [0u8; 64];
    let mut filled = 0;
    while filled < head.len() {
        match stream.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(_) => break,
        }
        if head[..filled].contains(&b'\n') {
            break;
        }
    }
    let line = String::from_utf8_lossy(&head[..filled]);
    let mut words = line.split_whitespace();
    match words.next() {
        Some(version) if version.starts_with("HTTP/") => words.next()?.parse().ok(),
        _ => None,
    }
}
