//! The check that follows the e2e tests: no token in a log line or in the browser's console.
//!
//! Every e2e test leaves its servers' logs (dev-idp, api, the SPA server) and the page's console messages in its
//! artifacts directory. After a run, each file written during it is searched for what a leaked credential looks
//! like: a JWT (an access or ID token: two base64url JSON objects, `eyJ…`, joined by dots), or a value given to
//! an OAuth parameter that carries one (`access_token`, `refresh_token`, `id_token`, `id_token_hint`) in a query,
//! a form or JSON. Refresh tokens and authorization codes are random strings that look like any other
//! identifier, so they are recognised by the parameter that carries them. A hit fails the step with the file,
//! line and kind, never with the value itself.
//!
//! What this cannot see: a token logged in another shape (split, re-encoded). The servers therefore log each
//! request's URI with the credentials of its query redacted (`server_kit::request_span`), and nothing logs a
//! header or a body.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Parameters whose values are credentials.
const CREDENTIAL_PARAMETERS: [&str; 4] = ["access_token", "refresh_token", "id_token", "id_token_hint"];
/// The shortest value after such a parameter that counts as a credential (shorter is a placeholder or empty).
const MIN_CREDENTIAL_CHARS: usize = 16;
/// The shortest base64url run taken for a JWT's header or payload.
const MIN_JWT_PART_CHARS: usize = 8;

/// One leaked credential: where, and what kind (the value itself is never reported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Leak {
    pub(crate) file: PathBuf,
    /// 1-based.
    pub(crate) line: usize,
    pub(crate) kind: &'static str,
}

fn is_base64url(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

/// The length of the base64url run at the start of `bytes`.
fn run_length(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| is_base64url(**b)).count()
}

/// Whether `line` holds a compact JWT: `eyJ<part>.eyJ<part>.` (the header and payload of every JWS and JWE
/// start with `{"`, which base64url encodes as `eyJ`).
fn has_jwt(line: &str) -> bool {
    let bytes = line.as_bytes();
    line.match_indices("eyJ").any(|(start, _)| {
        let header = run_length(&bytes[start..]);
        let rest = &bytes[start + header..];
        header >= MIN_JWT_PART_CHARS
            && rest.first() == Some(&b'.')
            && rest[1..].starts_with(b"eyJ")
            && run_length(&rest[1..]) >= MIN_JWT_PART_CHARS
    })
}

/// The credential parameter of `line` with a value, if any: `name=value` (a query or form), `"name":"value"`
/// (JSON) or `name: value` (a debug print), the value at least [`MIN_CREDENTIAL_CHARS`] base64url characters
/// (percent-escapes and `.` included, as in a JWT).
fn credential_parameter(line: &str) -> Option<&'static str> {
    CREDENTIAL_PARAMETERS.into_iter().find(|name| {
        line.match_indices(name).any(|(at, _)| {
            let before = line[..at].bytes().next_back();
            // `id_token` inside `id_token_hint` or `access_token_expires_at` is another name.
            if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return false;
            }
            let after = &line[at + name.len()..];
            let value = after
                .strip_prefix('=')
                .or_else(|| after.strip_prefix("\":").map(|v| v.trim_start().trim_start_matches('"')))
                .or_else(|| after.strip_prefix(": ").map(|v| v.trim_start_matches('"')))
                .or_else(|| {
                    after.strip_prefix('"').and_then(|v| v.strip_prefix(':')).map(|v| v.trim_start_matches('"'))
                });
            value.is_some_and(|value| {
                value.bytes().take_while(|b| is_base64url(*b) || *b == b'%' || *b == b'.').count()
                    >= MIN_CREDENTIAL_CHARS
            })
        })
    })
}

/// The leaks in `text`, as (1-based line, kind).
pub(crate) fn find_in(text: &str) -> Vec<(usize, &'static str)> {
    text.lines()
        .enumerate()
        .filter_map(|(index, line)| {
            if has_jwt(line) {
                Some((index + 1, "a JWT (access or ID token)"))
            } else {
                credential_parameter(line).map(|name| (index + 1, name))
            }
        })
        .collect()
}

/// The leaks in every file below `dir` modified at or after `since`.
pub(crate) fn scan(dir: &Path, since: SystemTime) -> Result<Vec<Leak>> {
    let mut leaks = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error).with_context(|| format!("reading {}", dir.display())),
        };
        for entry in entries {
            let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
            let path = entry.path();
            let metadata = entry.metadata().with_context(|| format!("reading {}", path.display()))?;
            if metadata.is_dir() {
                pending.push(path);
                continue;
            }
            if metadata.modified().is_ok_and(|at| at < since) {
                continue;
            }
            // Screenshots and other binary files are skipped: only text is read.
            let Ok(text) = std::fs::read_to_string(&path) else { continue };
            leaks.extend(find_in(&text).into_iter().map(|(line, kind)| Leak { file: path.clone(), line, kind }));
        }
    }
    leaks.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    Ok(leaks)
}

/// The e2e step: fails when a file written during the run holds a credential.
pub(crate) fn check(dir: &Path, since: SystemTime) -> Result<()> {
    let leaks = scan(dir, since)?;
    if leaks.is_empty() {
        println!("no token in the logs or the console under {}", dir.display());
        return Ok(());
    }
    for leak in &leaks {
        eprintln!("{}:{}: {}", leak.file.display(), leak.line, leak.kind);
    }
    bail!("{} credential(s) found in the e2e logs and console (listed above, values withheld)", leaks.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1MSIsImF1ZCI6ImFwaSJ9.c2lnbmF0dXJl";

    #[test]
    fn jwts_are_found_wherever_they_are() {
        for line in [
            JWT.to_owned(),
            format!("GET /v2/logout?id_token_hint={JWT}&client_id=spa"),
            format!("DEBUG request: Authorization: Bearer {JWT}"),
            format!("[SEVERE] console-api: session {JWT:?}"),
        ] {
            assert_eq!(find_in(&line), [(1, "a JWT (access or ID token)")], "{line}");
        }
    }

    #[test]
    fn credential_parameters_are_found_in_queries_forms_and_json() {
        let secret = "Q2hhbmdlZF9yZWZyZXNoX3Rva2VuX3ZhbHVl";
        for (line, kind) in [
            (format!("grant_type=refresh_token&refresh_token={secret}&client_id=spa"), "refresh_token"),
            (format!(r#"{{"refresh_token":"{secret}","subject":"u1"}}"#), "refresh_token"),
            (format!(r#"{{"refresh_token": "{secret}"}}"#), "refresh_token"),
            (format!("StoredRefresh {{ refresh_token: \"{secret}\" }}"), "refresh_token"),
            (format!("/cb#access_token={secret}"), "access_token"),
            (format!("logout?id_token_hint={secret}"), "id_token_hint"),
        ] {
            assert_eq!(find_in(&line), [(1, kind)], "{line}");
        }
    }

    #[test]
    fn ordinary_log_lines_are_not_leaks() {
        let text = "\
DEBUG request{method=GET uri=/v2/logout?id_token_hint=[redacted]&client_id=spa version=HTTP/1.1}: started processing request
grant_type=refresh_token&client_id=spa
token_type_hint=refresh_token
\"refresh_token\":null
access_token_expires_at=1800000000
the refresh token was refused: invalid_grant
eyJhbGciOiJSUzI1NiJ9 (a header alone)
id_token=short";
        assert_eq!(find_in(text), []);
    }

    #[test]
    fn lines_are_counted_from_one() {
        let text = format!("fine\nfine\n{JWT}\nfine\nrefresh_token=abcdefghijklmnopqrstuvwxyz");
        assert_eq!(find_in(&text), [(3, "a JWT (access or ID token)"), (5, "refresh_token")]);
    }

    #[test]
    fn only_files_of_this_run_are_read_and_values_are_withheld() {
        let dir = std::env::temp_dir().join(format!("xtask-leaks-{}", std::process::id()));
        let nested = dir.join("some_test");
        std::fs::create_dir_all(&nested).unwrap();
        std::fs::write(nested.join("api.log"), format!("ok\nBearer {JWT}\n")).unwrap();
        std::fs::write(dir.join("screenshot.png"), [0xFFu8, 0xD8, 0x00, 0x9F]).unwrap();
        let leaks = scan(&dir, SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(leaks, [Leak { file: nested.join("api.log"), line: 2, kind: "a JWT (access or ID token)" }]);
        let error = check(&dir, SystemTime::UNIX_EPOCH).unwrap_err().to_string();
        assert!(!error.contains(JWT), "{error}");
        // Files older than the run are not read.
        let later = SystemTime::now() + std::time::Duration::from_secs(3600);
        assert_eq!(scan(&dir, later).unwrap(), []);
        assert!(scan(&dir.join("absent"), SystemTime::UNIX_EPOCH).unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
