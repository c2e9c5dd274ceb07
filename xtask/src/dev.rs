//! `cargo xtask dev` and `cargo xtask backend`: the whole stack on local ports.
//!
//! dev-idp (127.0.0.1:8081) and the api (127.0.0.1:3000) share the SQLite database in the data directory
//! (`.dev/`); `trunk serve` (127.0.0.1:8080, and [::1]:8080 where the machine has it, so that `localhost` works
//! too) serves the SPA and proxies the API's base path to the api. Each is started once the one before is
//! healthy, and all stop together on Ctrl-C or as soon as any of them exits. Ports, the data directory and
//! trunk's output directory can be moved ([`DevOptions`]), which is how `crates/e2e/tests/dev_loop.rs` runs a
//! second stack beside a developer's.
//!
//! The SPA's `/config.json` is generated here from the ports and the shared names (see [`spa_config`]) and put
//! into each build by the hook in Trunk.toml; `public/config.json` is the same file for the default ports.

use crate::net::{http_ok, ipv6_loopback_available, port_is_free, port_is_free_on_ipv6};
use crate::process::{Supervisor, Waited, cargo, command, run_checked};
use crate::tools::{self, Needs};
use crate::workspace;
use anyhow::{Context, Result, bail};
use permissions::names;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long the servers may take to answer `/healthz` (dev-idp creates its signing key on first start).
const SERVER_TIMEOUT: Duration = Duration::from_secs(120);
/// How long trunk's first build may take (a cold debug build of the SPA and its dependencies).
const TRUNK_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// The environment variable the Trunk.toml hook writes into each build as `config.json`.
pub(crate) const SPA_CONFIG_ENV: &str = "PERMISSION_SPA_DEV_CONFIG";
/// trunk's log filter: its usual output, plus the watcher's line naming each change it accepts, so that a rebuild
/// says which file caused it.
const TRUNK_LOG: &str = "error,trunk=info,trunk::watch=debug";

/// With or without `trunk serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    WithTrunk,
    BackendOnly,
}

/// Where the stack runs and keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DevOptions {
    /// trunk's port; the SPA's origins are `http://127.0.0.1:<port>` and `http://localhost:<port>`.
    pub(crate) spa_port: u16,
    pub(crate) api_port: u16,
    pub(crate) idp_port: u16,
    /// The database and the provider's keys; relative paths are taken from the workspace root.
    pub(crate) data_dir: PathBuf,
    /// trunk's output directory (`--dist`); `None` leaves Trunk.toml's `dist`.
    pub(crate) dist: Option<PathBuf>,
    /// Serve the release build (`trunk serve --release`).
    pub(crate) release: bool,
}

impl Default for DevOptions {
    fn default() -> Self {
        DevOptions {
            spa_port: 8080,
            api_port: 3000,
            idp_port: 8081,
            data_dir: PathBuf::from(".dev"),
            dist: None,
            release: false,
        }
    }
}

impl DevOptions {
    /// Fails if two servers were given the same port.
    pub(crate) fn check(&self) -> Result<()> {
        let ports = [self.spa_port, self.api_port, self.idp_port];
        if ports[0] == ports[1] || ports[0] == ports[2] || ports[1] == ports[2] {
            bail!("the SPA, the api and dev-idp need three different ports, got {ports:?}");
        }
        Ok(())
    }

    /// The origins the SPA is served on: the one the banner shows first, then `localhost`.
    pub(crate) fn spa_origins(&self) -> [String; 2] {
        [format!("http://127.0.0.1:{}", self.spa_port), format!("http://localhost:{}", self.spa_port)]
    }

    /// dev-idp's issuer URL.
    pub(crate) fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.idp_port)
    }
}

/// The SPA's runtime configuration for a stack whose provider is at `issuer` (the keys the e2e contract lists).
pub(crate) fn spa_config(issuer: &str) -> serde_json::Value {
    serde_json::json!({
        "issuer": issuer,
        "client_id": names::CLIENT_ID,
        "audience": names::API_AUDIENCE,
        "permissions_claim": names::PERMISSIONS_CLAIM,
        "api_base": contract::api::DEFAULT_BASE,
    })
}

pub(crate) fn run(mode: Mode, options: &DevOptions, skip_install: bool) -> Result<()> {
    let with_ipv6 = mode == Mode::WithTrunk && ipv6_loopback_available();
    check_ports(mode, options, with_ipv6)?;
    if !skip_install {
        tools::ensure(if mode == Mode::WithTrunk { Needs::SPA_BUILD } else { Needs::NATIVE })?;
    }

    let root = workspace::root();
    run_checked(cargo().args(["build", "-p", "api", "-p", "dev-idp"]).current_dir(&root))?;
    let bin_dir = workspace::Metadata::load()?.target_dir.join("debug");
    let data_dir = root.join(&options.data_dir);
    std::fs::create_dir_all(data_dir.join("dev-idp")).with_context(|| format!("creating {}", data_dir.display()))?;
    let database = data_dir.join("app.db");
    // Also for `backend`: the developer's own `trunk serve` reads the same Trunk.toml.
    prepare_watch_ignores(&root, &data_dir)?;

    let mut supervisor = Supervisor::new()?;
    let mut dev_idp = command(bin_dir.join("dev-idp"));
    dev_idp
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", options.idp_port))
        .arg("--database")
        .arg(&database)
        .arg("--data-dir")
        .arg(data_dir.join("dev-idp"))
        .current_dir(&root);
    for origin in options.spa_origins() {
        dev_idp.arg("--spa-origin").arg(origin);
    }
    supervisor.spawn("dev-idp", dev_idp)?;
    let every_10s = Duration::from_secs(10);
    let health = contract::api::HEALTH;
    if let Waited::Interrupted =
        supervisor.wait_for("dev-idp", SERVER_TIMEOUT, every_10s, || http_ok(options.idp_port, health))?
    {
        return Ok(());
    }

    let mut api = command(bin_dir.join("api"));
    api.arg("--issuer")
        .arg(options.issuer())
        .arg("--audience")
        .arg(names::API_AUDIENCE)
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", options.api_port))
        .arg("--database")
        .arg(&database)
        // dev-idp types its access tokens `at+jwt` and names the SPA in its ID tokens' `aud`: the strictest
        // settings work here, and an ID token sent by mistake is refused as it would be in production.
        .arg("--strict-token-type")
        .arg("--spa-client-id")
        .arg(names::CLIENT_ID)
        .current_dir(&root);
    // The browser reaches the api through the SPA origin's proxy (`trunk serve --proxy-backend`), so DPoP proofs
    // name that origin (RFC 9449 `htu`), which the api cannot see behind the proxy.
    for origin in options.spa_origins() {
        api.arg("--public-url").arg(format!("{origin}{}", contract::api::DEFAULT_BASE));
    }
    supervisor.spawn("api", api)?;
    if let Waited::Interrupted =
        supervisor.wait_for("api", SERVER_TIMEOUT, every_10s, || http_ok(options.api_port, health))?
    {
        return Ok(());
    }

    if mode == Mode::WithTrunk {
        supervisor.spawn("trunk", trunk_serve(options, with_ipv6)?)?;
        let first_build = "the SPA (trunk's first build takes a few minutes)";
        let every_30s = Duration::from_secs(30);
        if let Waited::Interrupted =
            supervisor.wait_for(first_build, TRUNK_TIMEOUT, every_30s, || http_ok(options.spa_port, "/"))?
        {
            return Ok(());
        }
    }

    banner(mode, options, with_ipv6);
    supervisor.run_until_interrupted()?;
    println!("\nstopping ...");
    Ok(())
}

/// Fails at once if a port is taken, so a second `cargo xtask dev` fails in a second instead of after a build.
fn check_ports(mode: Mode, options: &DevOptions, with_ipv6: bool) -> Result<()> {
    let mut ports = vec![(options.idp_port, "dev-idp"), (options.api_port, "api")];
    if mode == Mode::WithTrunk {
        ports.push((options.spa_port, "trunk serve (the SPA)"));
    }
    for (port, user) in &ports {
        if !port_is_free(*port) {
            bail!(
                "port {port} on 127.0.0.1 is already in use, but {user} needs it; stop whatever listens there \
                 (see `ss -ltnp 'sport = :{port}'`), perhaps another `cargo xtask dev`, or pick another port \
                 (`cargo xtask help`)"
            );
        }
    }
    if with_ipv6 && !port_is_free_on_ipv6(options.spa_port) {
        bail!(
            "port {} on [::1] is already in use, but trunk serves the SPA there too (for http://localhost:{}); \
             stop whatever listens there or pick another --spa-port",
            options.spa_port,
            options.spa_port
        );
    }
    Ok(())
}

/// `trunk serve` for these options: on loopback (both families where possible), proxying the API's base path to
/// the api, with the generated configuration.
fn trunk_serve(options: &DevOptions, with_ipv6: bool) -> Result<std::process::Command> {
    let mut trunk = tools::trunk();
    trunk.args(["serve", "--port", &options.spa_port.to_string(), "--address", "127.0.0.1"]);
    if with_ipv6 {
        trunk.args(["--address", "::1"]);
    }
    trunk.arg("--proxy-backend").arg(proxy_backend(options.api_port));
    if let Some(dist) = &options.dist {
        trunk.arg("--dist").arg(workspace::root().join(dist));
    }
    if options.release {
        trunk.arg("--release");
        crate::dist::use_release_toolchain(&mut trunk);
    }
    let config = serde_json::to_string(&spa_config(&options.issuer())).context("serialising the SPA config")?;
    trunk.env(SPA_CONFIG_ENV, config).env("RUST_LOG", TRUNK_LOG);
    Ok(trunk)
}

/// The URL trunk proxies the API's base path to (trunk keeps the path: `/api/v1/users` goes to `<this>users`).
fn proxy_backend(api_port: u16) -> String {
    format!("http://127.0.0.1:{api_port}{}/", contract::api::DEFAULT_BASE)
}

/// Creates every path Trunk.toml's `[watch] ignore` lists (trunk refuses to start if one is missing), and warns
/// when the data directory lies inside the project but outside them: trunk would then rebuild, and the page
/// reload, on every database write.
fn prepare_watch_ignores(root: &Path, data_dir: &Path) -> Result<()> {
    let trunk_toml = root.join("Trunk.toml");
    let text = std::fs::read_to_string(&trunk_toml).with_context(|| format!("reading {}", trunk_toml.display()))?;
    let ignored: Vec<PathBuf> = watch_ignores(&text).iter().map(|path| root.join(path)).collect();
    // Only what is missing, as a directory: the ignored files (README.md) are there in every checkout.
    for dir in ignored.iter().filter(|path| !path.exists()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    if data_dir.starts_with(root) && !ignored.iter().any(|dir| data_dir.starts_with(dir)) {
        println!(
            "warning: {} is inside the project but not in Trunk.toml's [watch] ignore; every database write will \
             make trunk rebuild and the page reload",
            data_dir.display()
        );
    }
    Ok(())
}

/// The paths of `[watch] ignore = [...]` in a Trunk.toml (one line or several; strings in double quotes).
fn watch_ignores(trunk_toml: &str) -> Vec<String> {
    let mut in_watch = false;
    let mut in_list = false;
    let mut paths = Vec::new();
    for line in trunk_toml.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.starts_with('[') && !in_list {
            in_watch = line == "[watch]";
            continue;
        }
        let rest = if in_list {
            line
        } else if in_watch && let Some(value) = line.strip_prefix("ignore").map(str::trim_start) {
            match value.strip_prefix('=') {
                Some(value) => {
                    in_list = true;
                    value.trim_start().strip_prefix('[').unwrap_or(value)
                }
                None => continue,
            }
        } else {
            continue;
        };
        let (items, closed) = match rest.split_once(']') {
            Some((items, _)) => (items, true),
            None => (rest, false),
        };
        paths.extend(items.split(',').filter_map(|item| {
            let item = item.trim();
            item.strip_prefix('"').and_then(|item| item.strip_suffix('"')).map(String::from)
        }));
        if closed {
            in_list = false;
        }
    }
    paths
}

/// Tells the developer where to go and who to be.
fn banner(mode: Mode, options: &DevOptions, with_ipv6: bool) {
    let [numeric, localhost] = options.spa_origins();
    println!();
    println!("================================================================");
    match mode {
        Mode::WithTrunk => {
            println!("  SPA:       {numeric}");
            let families = if with_ipv6 { "127.0.0.1 and [::1]" } else { "127.0.0.1 only" };
            println!("             {localhost} (served on {families})");
        }
        Mode::BackendOnly => {
            println!("  SPA:       run trunk yourself, in the project root:");
            println!(
                "               trunk serve --port {} --proxy-backend {}",
                options.spa_port,
                proxy_backend(options.api_port)
            );
            println!("             ({numeric} and {localhost} are registered at the provider)");
        }
    }
    println!("  provider:  {}", options.issuer());
    println!("  api:       http://127.0.0.1:{}", options.api_port);
    println!("  data:      {} (delete it to start over)", options.data_dir.display());
    println!();
    println!("  demo accounts (pick one on the provider's sign-in page):");
    println!("    jhon    admin: every permission");
    println!("    james   project-manager: read:project-list, create:project");
    println!("    nobody  no role, no permission");
    println!();
    println!("  Ctrl-C stops everything.");
    println!("================================================================");
    println!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project_trunk_toml() -> String {
        std::fs::read_to_string(workspace::root().join("Trunk.toml")).unwrap()
    }

    #[test]
    fn the_default_data_dir_is_one_trunk_ignores() {
        let ignored = watch_ignores(&project_trunk_toml());
        let data_dir = DevOptions::default().data_dir;
        assert!(ignored.iter().any(|path| data_dir.starts_with(path)), "{data_dir:?} is not among {ignored:?}");
        for written in ["target", "dist", "docs"] {
            assert!(ignored.iter().any(|path| path == written), "{written} is not among {ignored:?}");
        }
    }

    #[test]
    fn ignore_lists_are_read_on_one_line_or_several() {
        let one_line = "[build]\nignore = [\"no\"]\n[watch]\nwatch = []\nignore = [\".dev\", \"docs\"] # why\n[x]\n";
        assert_eq!(watch_ignores(one_line), [".dev", "docs"]);
        let several = "[watch]\nignore = [\n  \".dev\", # data\n  \"target\",\n]\n[serve]\nignore = [\"no\"]\n";
        assert_eq!(watch_ignores(several), [".dev", "target"]);
        assert!(watch_ignores("[serve]\nport = 1\n").is_empty());
    }

    #[test]
    fn the_generated_config_for_the_default_ports_is_public_config_json() {
        let public = std::fs::read_to_string(workspace::root().join("public/config.json")).unwrap();
        let public: serde_json::Value = serde_json::from_str(&public).unwrap();
        assert_eq!(spa_config(&DevOptions::default().issuer()), public);
    }

    #[test]
    fn trunk_serve_sends_the_spa_headers_with_its_nonce() {
        use e2e::spa_server::spa_headers::{Policy, trunk_serve_toml};
        let toml = project_trunk_toml();
        // The lines of a section: from its header to the next line that opens a table.
        let section = |header: &str| -> String {
            let start = toml.find(&format!("\n{header}\n")).unwrap_or_else(|| panic!("Trunk.toml has no {header}"));
            let body = &toml[start + header.len() + 2..];
            body[..body.find("\n[").unwrap_or(body.len()) + 1].to_owned()
        };
        let expected = trunk_serve_toml(&Policy::for_trunk_serve());
        assert!(
            section("[serve]").contains(&expected),
            "Trunk.toml's [serve] must hold, as spa-headers writes them:\n{expected}"
        );
        // Without it trunk fills no nonce, sends no policy, and its inline scripts would not be named by one.
        assert!(
            section("[build]").lines().any(|line| line.trim() == "create_nonce = true"),
            "[build] lacks create_nonce"
        );
    }

    #[test]
    fn both_loopback_names_are_origins() {
        let options = DevOptions { spa_port: 9000, ..DevOptions::default() };
        assert_eq!(options.spa_origins(), ["http://127.0.0.1:9000", "http://localhost:9000"]);
        assert_eq!(proxy_backend(3000), "http://127.0.0.1:3000/api/v1/");
    }

    #[test]
    fn ports_must_differ() {
        assert!(DevOptions::default().check().is_ok());
        assert!(DevOptions { api_port: 8080, ..DevOptions::default() }.check().is_err());
    }
}
