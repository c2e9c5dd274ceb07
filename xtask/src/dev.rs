//! `cargo xtask dev` and `cargo xtask backend`: the whole stack on fixed local ports.
//!
//! dev-idp (127.0.0.1:8081) and the api (127.0.0.1:3000) share the SQLite database in `.dev/`; `trunk serve`
//! (127.0.0.1:8080, proxying `/api` to the api as Trunk.toml says) serves the SPA. Each is started once the one
//! before is healthy, and all stop together on Ctrl-C or as soon as any of them exits.

use crate::net::{http_ok, port_is_free};
use crate::process::{Supervisor, Waited, cargo, command, run_checked};
use crate::tools::{self, Needs};
use crate::workspace;
use anyhow::{Context, Result, bail};
use std::time::Duration;

pub const SPA_PORT: u16 = 8080;
pub const IDP_PORT: u16 = 8081;
pub const API_PORT: u16 = 3000;
const AUDIENCE: &str = "https://api.permission-spa.example";

/// How long the servers may take to answer `/healthz` (dev-idp creates its signing key on first start).
const SERVER_TIMEOUT: Duration = Duration::from_secs(120);
/// How long trunk's first build may take (a cold debug build of the SPA and its dependencies).
const TRUNK_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// With or without `trunk serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    WithTrunk,
    BackendOnly,
}

pub fn run(mode: Mode, skip_install: bool) -> Result<()> {
    let mut ports = vec![(IDP_PORT, "dev-idp"), (API_PORT, "api")];
    if mode == Mode::WithTrunk {
        ports.push((SPA_PORT, "trunk serve (the SPA)"));
    }
    // Checked first, so a second `cargo xtask dev` fails in a second instead of after a build.
    for (port, user) in &ports {
        if !port_is_free(*port) {
            bail!(
                "port {port} on 127.0.0.1 is already in use, but {user} needs it; stop whatever listens there \
                 (see `ss -ltnp 'sport = :{port}'`) — perhaps another `cargo xtask dev` is running"
            );
        }
    }
    if !skip_install {
        tools::ensure(if mode == Mode::WithTrunk { Needs::SPA_BUILD } else { Needs::NONE })?;
    }

    let root = workspace::root();
    run_checked(cargo().args(["build", "-p", "api", "-p", "dev-idp"]).current_dir(&root))?;
    let bin_dir = workspace::Metadata::load()?.target_dir.join("debug");
    let dev_dir = root.join(".dev");
    std::fs::create_dir_all(dev_dir.join("dev-idp")).with_context(|| format!("creating {}", dev_dir.display()))?;
    let database = dev_dir.join("app.db");

    let mut supervisor = Supervisor::new()?;
    let mut dev_idp = command(bin_dir.join("dev-idp"));
    dev_idp
        .arg("--listen")
        .arg(format!("127.0.0.1:{IDP_PORT}"))
        .arg("--database")
        .arg(&database)
        .arg("--data-dir")
        .arg(dev_dir.join("dev-idp"))
        .arg("--spa-origin")
        .arg(format!("http://127.0.0.1:{SPA_PORT}"))
        .current_dir(&root);
    supervisor.spawn("dev-idp", dev_idp)?;
    let every_10s = Duration::from_secs(10);
    if let Waited::Interrupted =
        supervisor.wait_for("dev-idp", SERVER_TIMEOUT, every_10s, || http_ok(IDP_PORT, "/healthz"))?
    {
        return Ok(());
    }

    let mut api = command(bin_dir.join("api"));
    api.arg("--issuer")
        .arg(format!("http://127.0.0.1:{IDP_PORT}"))
        .arg("--audience")
        .arg(AUDIENCE)
        .arg("--listen")
        .arg(format!("127.0.0.1:{API_PORT}"))
        .arg("--database")
        .arg(&database)
        .current_dir(&root);
    supervisor.spawn("api", api)?;
    if let Waited::Interrupted =
        supervisor.wait_for("api", SERVER_TIMEOUT, every_10s, || http_ok(API_PORT, "/healthz"))?
    {
        return Ok(());
    }

    if mode == Mode::WithTrunk {
        let mut trunk = tools::trunk();
        trunk.args(["serve", "--address", "127.0.0.1", "--port", &SPA_PORT.to_string()]);
        supervisor.spawn("trunk", trunk)?;
        let first_build = "the SPA (trunk's first build takes a few minutes)";
        let every_30s = Duration::from_secs(30);
        if let Waited::Interrupted =
            supervisor.wait_for(first_build, TRUNK_TIMEOUT, every_30s, || http_ok(SPA_PORT, "/"))?
        {
            return Ok(());
        }
    }

    banner(mode);
    supervisor.run_until_interrupted()?;
    println!("\nstopping ...");
    Ok(())
}

/// Tells the developer where to go and who to be.
fn banner(mode: Mode) {
    println!();
    println!("================================================================");
    match mode {
        Mode::WithTrunk => println!("  SPA:       http://127.0.0.1:{SPA_PORT}"),
        Mode::BackendOnly => println!("  SPA:       run `trunk serve` (it will be http://127.0.0.1:{SPA_PORT})"),
    }
    println!("  provider:  http://127.0.0.1:{IDP_PORT}");
    println!("  api:       http://127.0.0.1:{API_PORT}");
    println!("  data:      .dev/ (delete it to start over)");
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
