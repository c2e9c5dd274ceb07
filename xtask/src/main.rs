//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! This module parses the command line and dispatches; each subcommand lives in its own module:
//! [`tools`] installs what the build needs, [`dev`] runs the stack locally, [`dist`] builds the release SPA and
//! reports its size, [`test`] runs every test layer in order. [`process`] and [`net`] are the shared plumbing.

mod dev;
mod dist;
mod net;
mod process;
mod test;
mod tools;
mod workspace;

use anyhow::{Result, bail};

const USAGE: &str = "\
Usage: cargo xtask <command> [options]

Commands:
  install              install or check every tool the project needs (trunk, wasm-bindgen-cli, the wasm32
                       target, wasm-opt from npm binaryen, Chromium and chromedriver); skips what is present
  dev                  run dev-idp, api and `trunk serve` together on 127.0.0.1 (SPA: http://127.0.0.1:8080);
                       Ctrl-C stops all of them
  backend              the same as `dev` without trunk, for running `trunk serve` yourself
  dist                 build the release SPA into dist/ and report its wasm and JS sizes (raw, gzip, brotli)
  test [LAYER...]      run test layers in order, stopping at the first failure; LAYER is one of
                       lint, native, wasm, e2e (default: all four). Arguments after `--` go to the test
                       binaries, e.g. `cargo xtask test e2e -- roles`
  help                 show this text

Options:
  --skip-install       (dev, backend, dist, test) do not check or install tools first
";

fn main() {
    if let Err(err) = run() {
        eprintln!("\nerror: {err:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_else(|| "help".to_string());
    let rest: Vec<String> = args.collect();
    let (flags, passthrough) = match rest.iter().position(|arg| arg == "--") {
        Some(split) => (rest[..split].to_vec(), rest[split + 1..].to_vec()),
        None => (rest, Vec::new()),
    };
    let skip_install = flags.iter().any(|flag| flag == "--skip-install");
    let positional: Vec<&str> = flags.iter().map(String::as_str).filter(|arg| !arg.starts_with("--")).collect();
    if let Some(unknown) = flags.iter().find(|arg| arg.starts_with("--") && *arg != "--skip-install") {
        bail!("unknown option {unknown}\n\n{USAGE}");
    }
    let no_positional = |command: &str| -> Result<()> {
        match positional.first() {
            Some(extra) => bail!("`{command}` takes no argument, got {extra:?}\n\n{USAGE}"),
            None => Ok(()),
        }
    };

    match command.as_str() {
        "install" => {
            no_positional("install")?;
            tools::ensure(tools::Needs::ALL)
        }
        "dev" => {
            no_positional("dev")?;
            dev::run(dev::Mode::WithTrunk, skip_install)
        }
        "backend" => {
            no_positional("backend")?;
            dev::run(dev::Mode::BackendOnly, skip_install)
        }
        "dist" => {
            no_positional("dist")?;
            dist::run(skip_install)
        }
        "test" => test::run(&positional, skip_install, &passthrough),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command {other:?}\n\n{USAGE}"),
    }
}
