//! Process plumbing shared by the servers (`api` and `dev-idp`).
//!
//! Only what both binaries need and neither owns lives here; anything about
//! tokens, tables or HTTP routes belongs to the crate that serves it.

/// Resolves on Ctrl-C or, on Unix, SIGTERM (what process managers and the
/// e2e harness send), for `axum::serve(..).with_graceful_shutdown(..)`.
///
/// A signal that cannot be listened for is logged and never resolves, so a
/// missing handler cannot stop the server by itself.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
