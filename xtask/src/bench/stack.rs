//! Building and starting what the bench measures: our release SPA (as `cargo xtask dist` builds it) and our
//! api and dev-idp in release; copies of the React and Express peers under `target/bench/`, built with npm;
//! then dev-idp and our api (through the e2e [`e2e::Harness`]), the Express peer against the same provider,
//! and one static server per SPA ([`Site`]), both registered at dev-idp.

use super::Site;
use crate::dist;
use crate::process::{cargo, command, run_checked};
use crate::workspace;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The demo user both apps sign in as: `jhon` holds every permission, so every screen and nav link shows.
pub(crate) const USER: &str = "jhon";

/// Where the peers live, relative to the workspace root.
const PEERS: &str = "../shared/peers";

/// What the builds produced.
pub(crate) struct Built {
    /// Our release SPA.
    pub(crate) ours_dist: PathBuf,
    /// The React peer's `dist/`.
    pub(crate) peer_dist: PathBuf,
    /// The directory of `api` and `dev-idp` release binaries.
    pub(crate) bin_dir: PathBuf,
    /// The Express peer's directory (its `server.js` and `node_modules`).
    pub(crate) node_api: PathBuf,
}

/// Builds both SPAs and both APIs into `dir` (`target/bench`).
pub(crate) fn build(dir: &Path) -> Result<Built> {
    let root = workspace::root();
    let ours_dist = dir.join("ours-dist");
    let metadata = workspace::Metadata::load()?;
    dist::build_release(&ours_dist, &metadata.target_dir)?;
    let bin_dir = build_servers()?;

    let peers = root.join(PEERS);
    let react = dir.join("react");
    copy_tree(&peers.join("react"), &react)?;
    run_checked(command("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&react))?;
    run_checked(command("npm").args(["run", "build"]).current_dir(&react))?;
    let node_api = dir.join("node-api");
    copy_tree(&peers.join("node-api"), &node_api)?;
    run_checked(command("npm").args(["ci", "--no-audit", "--no-fund", "--omit=dev"]).current_dir(&node_api))?;
    Ok(Built { ours_dist, peer_dist: react.join("dist"), bin_dir, node_api })
}

/// Builds `api` and `dev-idp` in release and returns the directory holding them (`cargo xtask load` measures
/// the same binaries).
pub(crate) fn build_servers() -> Result<PathBuf> {
    run_checked(cargo().args(["build", "--release", "-p", "api", "-p", "dev-idp"]).current_dir(workspace::root()))?;
    Ok(workspace::Metadata::load()?.target_dir.join("release"))
}

/// Copies the sources under `from` to `to` (replacing an earlier copy), leaving out `node_modules` and `dist`,
/// which the build recreates.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    if !from.is_dir() {
        bail!("{} is missing: the bench compares against the peers in {PEERS}", from.display());
    }
    let _ = std::fs::remove_dir_all(to.join("dist"));
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("listing {}", from.display()))? {
        let entry = entry.with_context(|| format!("listing {}", from.display()))?;
        let name = entry.file_name();
        if name == "node_modules" || name == "dist" {
            continue;
        }
        let (source, target) = (entry.path(), to.join(&name));
        if source.is_dir() {
            copy_tree(&source, &target)?;
        } else {
            std::fs::copy(&source, &target)
                .with_context(|| format!("copying {} to {}", source.display(), target.display()))?;
        }
    }
    Ok(())
}

/// The running stack: provider, both APIs, both static servers. Dropping it stops everything.
pub(crate) struct Stack {
    /// Our SPA's origin.
    pub(crate) ours: Site,
    /// The React peer's origin.
    pub(crate) peer: Site,
    /// dev-idp and our api (and the harness's own SPA origin, unused here).
    pub(crate) harness: e2e::Harness,
    /// The Express peer, `http://127.0.0.1:PORT`.
    pub(crate) node_url: String,
    _node: e2e::process::ChildGuard,
}

/// Starts the stack on free ports; `log_dir` receives the node-api log.
pub(crate) async fn start(built: &Built, log_dir: &Path) -> Result<Stack> {
    // Both SPA origins must be known before the provider starts, which registers them as redirect targets.
    let ours_listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.context("binding a static server")?;
    let peer_listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.context("binding a static server")?;
    let origin = |listener: &tokio::net::TcpListener| -> Result<String> {
        Ok(format!("http://127.0.0.1:{}", listener.local_addr().context("reading a bound port")?.port()))
    };
    let (ours_origin, peer_origin) = (origin(&ours_listener)?, origin(&peer_listener)?);
    let harness = e2e::Harness::builder()
        .dist_dir(&built.ours_dist)
        .idp_arg("--spa-origin")
        .idp_arg(&ours_origin)
        .idp_arg("--spa-origin")
        .idp_arg(&peer_origin)
        // Our SPA reaches the api through its static server's proxy, so its DPoP proofs name that origin.
        .api_arg("--public-url")
        .api_arg(format!("{ours_origin}{}", contract::api::DEFAULT_BASE))
        .start()
        .await
        .context("starting dev-idp and the api")?;
    let config = harness.default_config();

    let node_port = e2e::ports::free_port()?;
    let node_url = format!("http://127.0.0.1:{node_port}");
    let mut node = std::process::Command::new("node");
    node.arg("server.js")
        .current_dir(&built.node_api)
        .env("ISSUER", harness.issuer())
        .env("AUDIENCE", e2e::AUDIENCE)
        .env("PORT", node_port.to_string())
        .env("NODE_ENV", "production");
    let mut node = e2e::process::ChildGuard::spawn("node-api", node, &log_dir.join("node-api.log"))?;
    wait_answering(&mut node, &format!("{node_url}{}", e2e::api_path(contract::api::PROJECTS))).await?;

    let ours = Site::start_on(ours_listener, &built.ours_dist, config.clone(), harness.api_url())?;
    let peer = Site::start_on(peer_listener, &built.peer_dist, config, node_url.clone())?;
    Ok(Stack { ours, peer, harness, node_url, _node: node })
}

/// Polls `url` until the server answers at all (node-api has no health route; its lists answer 401 signed out).
async fn wait_answering(child: &mut e2e::process::ChildGuard, url: &str) -> Result<()> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        child.ensure_running()?;
        if client.get(url).send().await.is_ok() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("{} did not answer {url} within 30 s\n{}", child.name(), child.log_tail());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
