//! Free loopback ports for the processes a test starts.
//!
//! The child processes bind their ports themselves, so the harness can only ask the kernel for ports that are
//! free right now and hand them over. That leaves a short window in which another program could take one; the
//! kernel hands out ephemeral ports round-robin, which keeps that window harmless in practice, and every port
//! of one call is held until all are chosen so a single call never returns the same port twice.

use anyhow::{Context, Result};
use std::net::TcpListener;

/// Returns `N` distinct ports on 127.0.0.1 that were free a moment ago.
pub fn free_ports<const N: usize>() -> Result<[u16; N]> {
    let listeners = (0..N)
        .map(|_| TcpListener::bind(("127.0.0.1", 0)).context("binding 127.0.0.1:0 to find a free port"))
        .collect::<Result<Vec<_>>>()?;
    let mut ports = [0u16; N];
    for (slot, listener) in ports.iter_mut().zip(&listeners) {
        *slot = listener.local_addr().context("reading the port of a bound listener")?.port();
    }
    Ok(ports)
}

/// Returns one port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> Result<u16> {
    let [port] = free_ports::<1>()?;
    Ok(port)
}

/// A loopback port held for a server that starts later: the socket is bound but not listening, so nobody else
/// can take the port, and a connection to it is refused at once, as when nothing runs there.
#[derive(Debug)]
pub struct ReservedPort {
    port: u16,
    _socket: tokio::net::TcpSocket,
}

impl ReservedPort {
    /// Binds a free port on 127.0.0.1 without listening on it.
    pub fn new() -> Result<ReservedPort> {
        let socket = tokio::net::TcpSocket::new_v4().context("creating a socket to reserve a port")?;
        socket.bind(([127, 0, 0, 1], 0).into()).context("binding 127.0.0.1:0 to reserve a port")?;
        let port = socket.local_addr().context("reading the port of a reserved socket")?.port();
        Ok(ReservedPort { port, _socket: socket })
    }

    /// The reserved port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Gives the port up (closes the socket), for the server about to bind it.
    pub fn release(self) -> u16 {
        self.port
    }
}

/// A server that accepts every connection on its port and never answers: a provider that hangs. The connections
/// it took are held open until it is dropped, when it stops listening and closes them all.
pub struct SilentServer {
    port: u16,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl SilentServer {
    /// Listens on 127.0.0.1:`port`.
    pub async fn listen(port: u16) -> Result<SilentServer> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .with_context(|| format!("binding 127.0.0.1:{port} for a server that never answers"))?;
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = accepted.clone();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                held.push(stream);
            }
        });
        Ok(SilentServer { port, accepted, task })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// How many connections it has accepted (and left unanswered).
    pub fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        // Aborting the task drops the listener and every stream it held.
        self.task.abort();
    }
}
