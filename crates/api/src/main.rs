//! The `api` binary: parses the flags, opens the store, builds the state and
//! serves [`api::app`] until Ctrl-C or SIGTERM.
//!
//! The issuer's keys are loaded in the background: the API answers (and
//! `/healthz` reports the database) at once even if the issuer starts a
//! moment later. Until the keys are loaded, requests with a token get `503`
//! with a `Retry-After`, and each such request may retry loading (at most
//! every few seconds). Once loaded, the keys are reloaded every 15 minutes,
//! and on demand when a token names an unknown `kid` (at once, with a
//! cooldown of a few seconds after a fetch that did not find it).

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use api::auth::{KeyStore, RefreshOptions, Verifier};
use api::config::Cli;
use api::{AppState, app};
use axum::serve::ListenerExt;
use clap::Parser;
use store::Store;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// The allocator: a list request makes about a hundred small allocations
/// (each row's strings, headers, buffers), and glibc's malloc took a sixth
/// of the CPU under load; mimalloc's thread-local free lists make them cheap.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long start-up keeps retrying the issuer before leaving it to requests.
const STARTUP_DISCOVERY_WINDOW: Duration = Duration::from_secs(60);
/// How often the issuer's keys are reloaded regardless of traffic.
const KEY_RELOAD_PERIOD: Duration = Duration::from_secs(15 * 60);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_ansi(std::io::stdout().is_terminal())
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();

    if let Some(dir) = cli.database.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the directory {}", dir.display()))?;
    }
    let store = Store::open(&cli.database)
        .await
        .with_context(|| format!("cannot open the database {}", cli.database.display()))?;

    let http = KeyStore::http_client(cli.issuer_timeout()).context("cannot build the HTTP client")?;
    let keys = KeyStore::discover(cli.issuer.clone(), http, RefreshOptions::default());
    let verifier = Arc::new(Verifier::new(cli.verifier_config(), keys));
    let loader = verifier.clone();
    tokio::spawn(async move { loader.keys().maintain(STARTUP_DISCOVERY_WINDOW, KEY_RELOAD_PERIOD).await });

    let state = AppState::new(store, verifier)
        .with_cors_origins(cli.cors_origins.iter().cloned())
        .with_roles_managed_by(cli.roles_managed_by)
        .with_dpop(cli.dpop_policy());
    let listener = TcpListener::bind(cli.listen).await.with_context(|| format!("cannot listen on {}", cli.listen))?;
    tracing::info!(
        issuer = %cli.issuer,
        audience = %cli.audience,
        permissions_claim = %cli.permissions_claim,
        require_dpop = cli.require_dpop,
        dpop_nonce = cli.dpop_nonce,
        public_urls = ?cli.public_urls.iter().map(|url| url.as_str()).collect::<Vec<_>>(),
        "API listening on http://{}",
        listener.local_addr()?
    );
    // Each answer is written whole (headers and body in one write), so
    // Nagle's algorithm could only hold it back waiting for the client's ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {error}");
        }
    });
    axum::serve(listener, app(state))
        .with_graceful_shutdown(server_kit::shutdown_signal())
        .await
        .context("server error")?;
    tracing::info!("API stopped");
    Ok(())
}
