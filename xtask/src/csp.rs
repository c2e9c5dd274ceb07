//! `cargo xtask csp`: the security headers a built SPA must be served with, computed by the `spa-headers` crate
//! from the build's `index.html` and the deployment's `config.json`. Prints them as `Name: value` lines on
//! stdout and writes them as nginx `add_header` lines; the README's "Serving the SPA: security headers" says
//! where they go.

use crate::workspace::{self, Metadata};
use anyhow::{Context, Result};
use e2e::spa_server::spa_headers;
use std::path::{Path, PathBuf};

/// The file name of the nginx snippet in the target directory, unless `--nginx` names another file.
const NGINX_SNIPPET: &str = "spa-headers.nginx.conf";

/// What `cargo xtask csp` was asked for; relative paths are taken from the workspace root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CspOptions {
    /// The built SPA (`--dist`, default `dist`).
    pub(crate) dist: PathBuf,
    /// The deployment's configuration (`--config`); `None` is the dist's own `config.json`.
    pub(crate) config: Option<PathBuf>,
    /// More origins for `connect-src` (`--connect-src`, repeatable).
    pub(crate) connect_src: Vec<String>,
    /// More origins for `form-action` (`--form-action`, repeatable).
    pub(crate) form_action: Vec<String>,
    /// Where the nginx snippet goes (`--nginx`); `None` is the target directory's `spa-headers.nginx.conf`.
    pub(crate) nginx: Option<PathBuf>,
}

impl Default for CspOptions {
    fn default() -> Self {
        CspOptions {
            dist: PathBuf::from("dist"),
            config: None,
            connect_src: Vec::new(),
            form_action: Vec::new(),
            nginx: None,
        }
    }
}

pub(crate) fn run(options: &CspOptions) -> Result<()> {
    let root = workspace::root();
    let dist = root.join(&options.dist);
    let config = options.config.as_ref().map_or_else(|| dist.join("config.json"), |config| root.join(config));
    let index = dist.join("index.html");
    let headers = headers_for(&index, &config, &options.connect_src, &options.form_action)?;

    for (name, value) in &headers {
        println!("{name}: {value}");
    }
    let snippet_path = match &options.nginx {
        Some(path) => root.join(path),
        None => Metadata::load()?.target_dir.join(NGINX_SNIPPET),
    };
    if let Some(parent) = snippet_path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let snippet = format!(
        "# Security headers for the SPA built in {} with {} (`cargo xtask csp`).\n\
         # Regenerate after every build: the script hashes change with it.\n{}",
        dist.display(),
        config.display(),
        spa_headers::nginx_snippet(&headers)
    );
    std::fs::write(&snippet_path, snippet).with_context(|| format!("writing {}", snippet_path.display()))?;
    eprintln!(
        "\nfrom {} and {}; nginx snippet: {}\n(include it where dist/ is served; rerun after each build)",
        index.display(),
        config.display(),
        snippet_path.display()
    );
    Ok(())
}

/// The headers for the build whose `index.html` is at `index`, served with the configuration at `config`.
fn headers_for(
    index: &Path,
    config: &Path,
    connect_src: &[String],
    form_action: &[String],
) -> Result<Vec<(&'static str, String)>> {
    let read = |path: &Path, what: &str| {
        std::fs::read_to_string(path).with_context(|| format!("reading {} ({what})", path.display()))
    };
    let index_html = read(index, "the build's index.html; build it with `cargo xtask dist`")?;
    let config_json = read(config, "the deployment's /config.json; --config names another")?;
    spa_headers::headers(&index_html, &config_json, connect_src, form_action)
        .with_context(|| format!("computing the headers from {} and {}", index.display(), config.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headers_come_from_the_files_and_name_them_when_they_are_wrong() {
        let dir = std::env::temp_dir().join(format!("xtask-csp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (index, config) = (dir.join("index.html"), dir.join("config.json"));
        std::fs::write(&index, "<script type=\"module\">alert(1)</script>").unwrap();
        std::fs::write(&config, r#"{"issuer": "https://idp.example/t/"}"#).unwrap();

        let headers =
            headers_for(&index, &config, &["https://keys.example".to_owned()], &["https://out.example".to_owned()])
                .unwrap();
        let csp = &headers[0].1;
        // printf %s 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert!(csp.contains("'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"), "{csp}");
        assert!(csp.contains("connect-src 'self' https://idp.example https://keys.example;"), "{csp}");
        assert!(csp.contains("form-action 'self' https://idp.example https://out.example;"), "{csp}");

        std::fs::write(&config, r#"{"client_id": "x"}"#).unwrap();
        let err = format!("{:#}", headers_for(&index, &config, &[], &[]).unwrap_err());
        assert!(err.contains("config.json") && err.contains("`issuer` is missing"), "{err}");
        let err = format!("{:#}", headers_for(&dir.join("none.html"), &config, &[], &[]).unwrap_err());
        assert!(err.contains("none.html") && err.contains("cargo xtask dist"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
