//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! This module parses the command line and dispatches; each subcommand lives in its own module:
//! [`tools`] installs what the build needs, [`dev`] runs the stack locally, [`dist`] builds the release SPA and
//! reports its size (against the line [`budget`] holds), [`test`] runs every test layer in order (and the
//! README's screenshots on request), [`fuzz`] runs the parsers' property tests for a time budget, [`csp`] prints
//! the security headers for a build. [`process`] and [`net`] are the shared plumbing.

mod bench;
mod budget;
mod cli;
mod csp;
mod dev;
mod dist;
mod fuzz;
mod leaks;
mod load;
mod minify;
mod net;
mod process;
mod split;
mod test;
mod tools;
mod wasm_names;
mod workspace;

use anyhow::Result;
use cli::Command;

fn main() {
    if let Err(err) = run() {
        eprintln!("\nerror: {err:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli::parse(&args)? {
        Command::Install => tools::ensure(tools::Needs::ALL),
        Command::Dev { options, skip_install } => dev::run(dev::Mode::WithTrunk, &options, skip_install),
        Command::Backend { options, skip_install } => dev::run(dev::Mode::BackendOnly, &options, skip_install),
        Command::Dist { skip_install } => dist::run(skip_install),
        Command::Test { layers, skip_install, test_args } => test::run(&layers, skip_install, &test_args),
        Command::Screenshots { skip_install } => test::screenshots(skip_install),
        Command::Bench { options, skip_install } => bench::run(&options, skip_install),
        Command::Load { options, skip_install } => load::run(&options, skip_install),
        Command::Fuzz { options, skip_install } => fuzz::run(&options, skip_install),
        Command::Csp { options } => csp::run(&options),
        Command::Help => {
            print!("{}", cli::USAGE);
            Ok(())
        }
    }
}
