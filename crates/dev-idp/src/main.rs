//! The `dev-idp` binary: parses the command line, sets up logging, and
//! serves, or runs the `rotate-key` subcommand.

use std::process::ExitCode;

use clap::Parser;
use dev_idp::cli::{Cli, Command};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // RUST_LOG overrides the default of `info`.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));

    if let Some(Command::RotateKey) = cli.command {
        // stdout carries the new kid alone, for scripts; logs go to stderr.
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
        return rotate_key(&cli);
    }
    tracing_subscriber::fmt().with_env_filter(filter).init();

    let config = match cli.into_config() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("dev-idp: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("dev-idp: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dev_idp::serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dev-idp: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `dev-idp rotate-key`: adds a key and prints its kid on stdout.
fn rotate_key(cli: &Cli) -> ExitCode {
    let now = dev_idp::clock::Clock::system().now();
    match dev_idp::signing_keys::rotate(&cli.data_dir, now) {
        Ok(rotated) => {
            println!("{}", rotated.kid);
            eprintln!(
                "dev-idp: {} is the new signing key (kid {}); a dev-idp serving from this directory uses it from its next request on",
                rotated.path.display(),
                rotated.kid
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("dev-idp: cannot rotate the signing key in {}: {error}", cli.data_dir.display());
            ExitCode::FAILURE
        }
    }
}
