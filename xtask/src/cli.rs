//! The command line of `cargo xtask`, parsed once into a typed [`Command`].
//!
//! Hand-rolled rather than clap: xtask is rebuilt whenever it runs, and the grammar is small. Options may be
//! written `--name value` or `--name=value`; an option a command does not take is an error, never ignored.

use crate::bench::BenchOptions;
use crate::csp::CspOptions;
use crate::dev::DevOptions;
use crate::fuzz::FuzzOptions;
use crate::load::LoadOptions;
use anyhow::{Context, Result, bail};
use std::path::PathBuf;

/// The help text, also shown after every usage error.
pub(crate) const USAGE: &str = "\
Usage: cargo xtask <command> [options]

Commands:
  install              install or check every tool the project needs (a C compiler, the rustfmt and clippy
                       components, the wasm32 target, wasm-bindgen-cli, trunk, wasm-opt from npm binaryen,
                       Chromium and chromedriver); says what it found and what it installed
  dev                  run dev-idp, api and `trunk serve` together (SPA: http://127.0.0.1:8080, also
                       http://localhost:8080); Ctrl-C stops all of them
  backend              the same as `dev` without trunk, for running `trunk serve` yourself
  dist                 build the release SPA into dist/ with pre-compressed .br and .gz copies, and report
                       what a first load fetches (raw, gzip, brotli) against the size budget
  test [LAYER...] [FILTER...]
                       run test layers in order, stopping at the first failure; LAYER is one of lint, native,
                       wasm, e2e (default: all four). Words after the layers are test-name filters for those
                       layers' test binaries, e.g. `cargo xtask test e2e roles`; arguments after `--` go to the
                       test binaries as they are, e.g. `cargo xtask test native -- --nocapture`
  screenshots          retake the README's screenshots into docs/screenshots (e2e tests write them under
                       target/e2e-artifacts/screenshots otherwise)
  bench                build our SPA and api and the React and Express peers (../shared/peers), measure them
                       side by side (bytes, reload and sign-in timings, `<Can>` at scale, API throughput under
                       wrk) and write target/bench/results.json and results.md; never part of `test`
  load                 a bounded load run on the release api (and dev-idp): authenticated list and create of
                       projects at once; fails on any non-2xx answer or transport error, a lost or duplicated
                       write, or api memory that does not stay flat; writes target/load/results.json and .md
  fuzz [TARGET...]     run the property tests of the parsers (`fuzz_` tests) for a time budget per target and
                       summarise cases, durations and failures; TARGET is one of claims, api-tokens, api-inputs,
                       login (default: all four). `cargo test` runs the same properties with a few cases each
  csp                  print the security headers (Content-Security-Policy with the hashes of the build's
                       inline scripts, and the fixed ones) for a built dist and its config.json, and write them
                       as an nginx snippet (default: target/spa-headers.nginx.conf)
  help                 show this text

Options:
  --skip-install       (dev, backend, dist, test, screenshots, bench, load, fuzz) do not check or install tools first
  --spa-port PORT      (dev, backend) the SPA's port (default 8080)
  --api-port PORT      (dev, backend) the api's port (default 3000)
  --idp-port PORT      (dev, backend) dev-idp's port (default 8081)
  --data-dir DIR       (dev, backend) where the database and the provider's keys live (default .dev)
  --dist DIR           (dev) where trunk serve writes the SPA (default dist)
  --release            (dev) serve the release build of the SPA (the one `cargo xtask test e2e` builds)
  --quick              (bench) few runs and 2 s wrk runs, for development: indicative figures only
  --runs N             (bench) browser runs per app and timing figure (default 20, 3 with --quick)
  --wrk-secs N         (bench) seconds per wrk run (default 10, 2 with --quick)
  --connections N      (bench) wrk connections (default 64); (load) connections, half listing and half
                       writing (default 64)
  --threads N          (bench) wrk threads (default 2)
  --secs N             (load) seconds of the measured run (default 30)
  --warmup-secs N      (load) seconds of load before it, left out of the figures (default 5)
  --seconds N          (fuzz) seconds per target, shared by its properties (default 60)
  --dist DIR           (csp) the built SPA (default dist)
  --config FILE        (csp) the deployment's config.json (default: the one in the dist)
  --connect-src ORIGIN (csp, repeatable) one more origin the SPA fetches from (a token endpoint or JWKS that is
                       not on the issuer's origin)
  --form-action ORIGIN (csp, repeatable) one more origin sign-out's form may go to (an end-session endpoint that
                       is not on the issuer's origin, or an origin it redirects through)
  --nginx FILE         (csp) where the nginx snippet goes
";

/// A parsed command line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Command {
    Install,
    Dev { options: DevOptions, skip_install: bool },
    Backend { options: DevOptions, skip_install: bool },
    Dist { skip_install: bool },
    Test { layers: Vec<String>, skip_install: bool, test_args: Vec<String> },
    Screenshots { skip_install: bool },
    Bench { options: BenchOptions, skip_install: bool },
    Load { options: LoadOptions, skip_install: bool },
    Fuzz { options: FuzzOptions, skip_install: bool },
    Csp { options: CspOptions },
    Help,
}

/// The test layers `cargo xtask test` knows, in the order it runs them.
pub(crate) const LAYERS: [&str; 4] = ["lint", "native", "wasm", "e2e"];

/// Parses the arguments after `cargo xtask`.
pub(crate) fn parse(args: &[String]) -> Result<Command> {
    let Some((command, rest)) = args.split_first() else { return Ok(Command::Help) };
    let (words, passthrough) = match rest.iter().position(|arg| arg == "--") {
        Some(split) => (&rest[..split], rest[split + 1..].to_vec()),
        None => (rest, Vec::new()),
    };
    let parsed = Words::split(words).with_context(|| format!("\n\n{USAGE}"))?;
    let usage = |message: String| -> anyhow::Error { anyhow::anyhow!("{message}\n\n{USAGE}") };
    if !passthrough.is_empty() && command != "test" {
        return Err(usage(format!("`{command}` takes no arguments after `--`")));
    }

    let allowed: &[&str] = match command.as_str() {
        "install" | "help" | "--help" | "-h" => &[],
        "dev" => &["skip-install", "spa-port", "api-port", "idp-port", "data-dir", "dist", "release"],
        "backend" => &["skip-install", "spa-port", "api-port", "idp-port", "data-dir"],
        "dist" | "test" | "screenshots" => &["skip-install"],
        "bench" => &["skip-install", "quick", "runs", "wrk-secs", "connections", "threads"],
        "load" => &["skip-install", "connections", "secs", "warmup-secs"],
        "fuzz" => &["skip-install", "seconds"],
        "csp" => &["dist", "config", "connect-src", "form-action", "nginx"],
        other => return Err(usage(format!("unknown command {other:?}"))),
    };
    if let Some((name, _)) = parsed.options.iter().find(|(name, _)| !allowed.contains(&name.as_str())) {
        return Err(usage(format!("`{command}` does not take --{name}")));
    }
    if !["test", "fuzz"].contains(&command.as_str())
        && let Some(extra) = parsed.positional.first()
    {
        return Err(usage(format!("`{command}` takes no argument, got {extra:?}")));
    }
    let skip_install = parsed.flag("skip-install");

    Ok(match command.as_str() {
        "install" => Command::Install,
        "help" | "--help" | "-h" => Command::Help,
        "dist" => Command::Dist { skip_install },
        "screenshots" => Command::Screenshots { skip_install },
        "csp" => {
            let mut options = CspOptions::default();
            if let Some(dist) = parsed.value("dist") {
                options.dist = PathBuf::from(dist);
            }
            options.config = parsed.value("config").map(PathBuf::from);
            options.nginx = parsed.value("nginx").map(PathBuf::from);
            options.connect_src = parsed.values("connect-src");
            options.form_action = parsed.values("form-action");
            Command::Csp { options }
        }
        "bench" => {
            let mut options = BenchOptions::new(parsed.flag("quick"));
            for (name, slot) in [
                ("wrk-secs", &mut options.wrk_secs),
                ("connections", &mut options.connections),
                ("threads", &mut options.threads),
            ] {
                if let Some(value) = parsed.count(name)? {
                    *slot = value;
                }
            }
            if let Some(runs) = parsed.count("runs")? {
                options.runs = runs as usize;
            }
            Command::Bench { options, skip_install }
        }
        "load" => {
            let mut options = LoadOptions::default();
            for (name, slot) in [
                ("connections", &mut options.connections),
                ("secs", &mut options.secs),
                ("warmup-secs", &mut options.warmup_secs),
            ] {
                if let Some(value) = parsed.count(name)? {
                    *slot = value;
                }
            }
            options.check().map_err(|err| usage(format!("{err:#}")))?;
            Command::Load { options, skip_install }
        }
        "fuzz" => {
            let mut options = FuzzOptions { targets: parsed.positional.clone(), ..FuzzOptions::default() };
            if let Some(seconds) = parsed.count("seconds")? {
                options.seconds = seconds;
            }
            if let Some(unknown) =
                options.targets.iter().find(|name| !crate::fuzz::target_names().contains(&name.as_str()))
            {
                return Err(usage(format!("unknown fuzz target {unknown:?}")));
            }
            Command::Fuzz { options, skip_install }
        }
        "dev" | "backend" => {
            let mut options = DevOptions::default();
            if let Some(port) = parsed.port("spa-port")? {
                options.spa_port = port;
            }
            if let Some(port) = parsed.port("api-port")? {
                options.api_port = port;
            }
            if let Some(port) = parsed.port("idp-port")? {
                options.idp_port = port;
            }
            if let Some(dir) = parsed.value("data-dir") {
                options.data_dir = PathBuf::from(dir);
            }
            options.dist = parsed.value("dist").map(PathBuf::from);
            options.release = parsed.flag("release");
            options.check().map_err(|err| usage(format!("{err:#}")))?;
            if command == "dev" {
                Command::Dev { options, skip_install }
            } else {
                Command::Backend { options, skip_install }
            }
        }
        _ => {
            // Layers first; the first word that is not a layer starts the filters, which need a layer before them
            // so that a misspelt layer is reported instead of silently becoming a filter for every layer.
            let split = parsed.positional.iter().position(|word| !LAYERS.contains(&word.as_str()));
            let (layers, filters) = parsed.positional.split_at(split.unwrap_or(parsed.positional.len()));
            if layers.is_empty()
                && let Some(first) = filters.first()
            {
                return Err(usage(format!(
                    "unknown test layer {first:?}; the layers are {}. A test-name filter follows a layer, e.g. \
                     `cargo xtask test e2e {first}`",
                    LAYERS.join(", ")
                )));
            }
            let mut test_args = filters.to_vec();
            test_args.extend(passthrough);
            Command::Test { layers: layers.to_vec(), skip_install, test_args }
        }
    })
}

/// The words before `--`: options (with their value, if any) and positional arguments.
struct Words {
    options: Vec<(String, Option<String>)>,
    positional: Vec<String>,
}

/// Options that take a value.
const VALUED: [&str; 16] = [
    "spa-port",
    "api-port",
    "idp-port",
    "data-dir",
    "dist",
    "runs",
    "wrk-secs",
    "connections",
    "threads",
    "secs",
    "warmup-secs",
    "seconds",
    "config",
    "connect-src",
    "form-action",
    "nginx",
];
/// Options that may be given more than once, each time with a value.
const REPEATABLE: [&str; 2] = ["connect-src", "form-action"];

impl Words {
    fn split(words: &[String]) -> Result<Words> {
        let mut options = Vec::new();
        let mut positional = Vec::new();
        let mut words = words.iter();
        while let Some(word) = words.next() {
            let Some(option) = word.strip_prefix("--") else {
                positional.push(word.clone());
                continue;
            };
            let (name, inline) = match option.split_once('=') {
                Some((name, value)) => (name, Some(value.to_string())),
                None => (option, None),
            };
            let value = match (VALUED.contains(&name), inline) {
                (true, Some(value)) => Some(value),
                (true, None) => Some(words.next().with_context(|| format!("--{name} needs a value"))?.clone()),
                (false, Some(_)) => bail!("--{name} takes no value"),
                (false, None) => None,
            };
            if !REPEATABLE.contains(&name) && options.iter().any(|(seen, _): &(String, Option<String>)| seen == name) {
                bail!("--{name} is given twice");
            }
            options.push((name.to_string(), value));
        }
        Ok(Words { options, positional })
    }

    fn flag(&self, name: &str) -> bool {
        self.options.iter().any(|(seen, _)| seen == name)
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.options.iter().find(|(seen, _)| seen == name).and_then(|(_, value)| value.as_deref())
    }

    /// Every value of a repeatable option, in the order given.
    fn values(&self, name: &str) -> Vec<String> {
        self.options.iter().filter(|(seen, _)| seen == name).filter_map(|(_, value)| value.clone()).collect()
    }

    /// A number above zero given as `--name N`, if given; `expected` says in words what it must be.
    fn positive<T: std::str::FromStr + PartialOrd + Default>(&self, name: &str, expected: &str) -> Result<Option<T>> {
        match self.value(name) {
            None => Ok(None),
            Some(text) => match text.parse::<T>() {
                Ok(number) if number > T::default() => Ok(Some(number)),
                _ => bail!("--{name} must be {expected}, got {text:?}"),
            },
        }
    }

    /// A positive whole number given as `--name N`, if given.
    fn count(&self, name: &str) -> Result<Option<u32>> {
        self.positive(name, "a whole number above 0")
    }

    /// A port number given as `--name N`, if given.
    fn port(&self, name: &str) -> Result<Option<u16>> {
        self.positive(name, "a port number from 1 to 65535")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(line: &str) -> Result<Command> {
        parse(&line.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn dev_keeps_its_defaults_without_options() {
        let command = parse_line("dev").unwrap();
        assert_eq!(command, Command::Dev { options: DevOptions::default(), skip_install: false });
        let DevOptions { spa_port, api_port, idp_port, ref data_dir, ref dist, release } = DevOptions::default();
        assert_eq!((spa_port, api_port, idp_port), (8080, 3000, 8081));
        assert_eq!(data_dir, &PathBuf::from(".dev"));
        assert_eq!((dist, release), (&None, false));
    }

    #[test]
    fn dev_takes_ports_a_data_dir_a_dist_and_release() {
        let command = parse_line(
            "dev --skip-install --spa-port 9000 --api-port=9001 --idp-port 9002 --data-dir /tmp/d --dist x --release",
        )
        .unwrap();
        let options = DevOptions {
            spa_port: 9000,
            api_port: 9001,
            idp_port: 9002,
            data_dir: PathBuf::from("/tmp/d"),
            dist: Some(PathBuf::from("x")),
            release: true,
        };
        assert_eq!(command, Command::Dev { options, skip_install: true });
    }

    #[test]
    fn bad_options_are_refused() {
        for line in [
            "dev --spa-port",
            "dev --spa-port 0",
            "dev --spa-port http",
            "dev --spa-port 9000 --api-port 9000",
            "dev --release=yes",
            "dev --skip-install --skip-install",
            "backend --release",
            "dist --spa-port 1",
            "install extra",
            "dev -- nothing",
            "frobnicate",
        ] {
            assert!(parse_line(line).is_err(), "{line:?} was accepted");
        }
    }

    #[test]
    fn test_takes_layers_then_filters_then_raw_arguments() {
        let command = parse_line("test e2e --skip-install roles dev_loop -- --nocapture").unwrap();
        let expected = Command::Test {
            layers: vec!["e2e".into()],
            skip_install: true,
            test_args: vec!["roles".into(), "dev_loop".into(), "--nocapture".into()],
        };
        assert_eq!(command, expected);
        assert_eq!(
            parse_line("test").unwrap(),
            Command::Test { layers: vec![], skip_install: false, test_args: vec![] }
        );
    }

    #[test]
    fn a_filter_without_a_layer_is_taken_for_a_misspelt_layer() {
        let err = parse_line("test nativ").unwrap_err();
        assert!(format!("{err:#}").contains("unknown test layer \"nativ\""), "{err:#}");
    }

    #[test]
    fn bench_takes_quick_runs_and_wrk_settings() {
        let command = parse_line("bench --quick --runs 5 --wrk-secs=4 --connections 8 --threads 1").unwrap();
        let options = BenchOptions { quick: true, runs: 5, wrk_secs: 4, connections: 8, threads: 1 };
        assert_eq!(command, Command::Bench { options, skip_install: false });
        assert_eq!(
            parse_line("bench").unwrap(),
            Command::Bench { options: BenchOptions::new(false), skip_install: false }
        );
        for line in ["bench --runs 0", "bench --runs many", "bench --release", "bench extra"] {
            assert!(parse_line(line).is_err(), "{line:?} was accepted");
        }
    }

    #[test]
    fn load_takes_connections_and_durations() {
        let command = parse_line("load --skip-install --connections 8 --secs=3 --warmup-secs 1").unwrap();
        let options = LoadOptions { connections: 8, secs: 3, warmup_secs: 1 };
        assert_eq!(command, Command::Load { options, skip_install: true });
        let defaults = LoadOptions { connections: 64, secs: 30, warmup_secs: 5 };
        assert_eq!(parse_line("load").unwrap(), Command::Load { options: defaults, skip_install: false });
        for line in ["load --connections 1", "load --secs 0", "load --secs 90000", "load --quick", "load extra"] {
            assert!(parse_line(line).is_err(), "{line:?} was accepted");
        }
    }

    #[test]
    fn the_fuzz_command_takes_targets_and_seconds() {
        let command = parse_line("fuzz login claims --seconds 5 --skip-install").unwrap();
        let options = FuzzOptions { seconds: 5, targets: vec!["login".into(), "claims".into()] };
        assert_eq!(command, Command::Fuzz { options, skip_install: true });
        assert_eq!(parse_line("fuzz").unwrap(), Command::Fuzz { options: FuzzOptions::default(), skip_install: false });
        for line in ["fuzz --seconds 0", "fuzz --seconds", "fuzz nowhere", "fuzz --quick", "fuzz -- x"] {
            assert!(parse_line(line).is_err(), "{line:?} was accepted");
        }
    }

    #[test]
    fn csp_takes_a_dist_a_config_an_nginx_file_and_repeated_origins() {
        assert_eq!(parse_line("csp").unwrap(), Command::Csp { options: CspOptions::default() });
        let command = parse_line(
            "csp --dist x --config prod.json --connect-src https://a.example --connect-src=https://b.example \
             --form-action https://c.example --nginx n",
        )
        .unwrap();
        let options = CspOptions {
            dist: PathBuf::from("x"),
            config: Some(PathBuf::from("prod.json")),
            connect_src: vec!["https://a.example".into(), "https://b.example".into()],
            form_action: vec!["https://c.example".into()],
            nginx: Some(PathBuf::from("n")),
        };
        assert_eq!(command, Command::Csp { options });
        for line in ["csp --config a --config b", "csp --skip-install", "csp extra", "dev --connect-src x"] {
            assert!(parse_line(line).is_err(), "{line:?} was accepted");
        }
    }

    #[test]
    fn no_argument_is_help() {
        assert_eq!(parse(&[]).unwrap(), Command::Help);
    }
}
