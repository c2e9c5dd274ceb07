//! The signing keys and the JWKS that publishes them.
//!
//! Keys are RSA 2048 and live as PKCS#8 PEM files (mode 0600) in
//! `{data dir}/keys/`, named so that they sort by age (`0001.pem`, …). The
//! key set holds every key found there and signs with the newest, while the
//! JWKS publishes all of them: a later `rotate-key` command only has to write
//! the next file. Today the provider creates the first key on its first start
//! and loads it afterwards, so a restart signs no one out.
//!
//! Each key's `kid` is its RFC 7638 JWK thumbprint, so it is stable and
//! derived from the key alone.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use rand::rngs::OsRng;
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// RSA modulus size of generated keys; RS256 wants at least 2048 bits.
pub const KEY_BITS: usize = 2048;
/// The sub-directory of the data dir that holds the keys.
const KEYS_DIR: &str = "keys";
/// The file the first key is written to.
const FIRST_KEY_FILE: &str = "0001.pem";

/// What can go wrong loading or creating keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot {action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: io::Error },
    #[error("{path} is not a PKCS#8 PEM RSA private key: {reason}")]
    Malformed { path: PathBuf, reason: String },
    #[error("{path} holds a {bits}-bit RSA key; at least {KEY_BITS} bits are required")]
    TooSmall { path: PathBuf, bits: usize },
    #[error("cannot generate an RSA key: {0}")]
    Generate(String),
    #[error("cannot encode the RSA key: {0}")]
    Encode(String),
}

/// One public key as a JWK (RFC 7517), as the JWKS lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicJwk {
    pub kty: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub alg: &'static str,
    pub kid: String,
    pub n: String,
    pub e: String,
}

/// The JWKS document (`/.well-known/jwks.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwks {
    pub keys: Vec<PublicJwk>,
}

/// One RSA signing key with everything derived from it.
pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: PublicJwk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material, not even by accident in a log line.
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Wraps a private key, deriving its `kid`, JWK and jsonwebtoken keys.
    pub fn from_private_key(key: &RsaPrivateKey) -> Result<SigningKey, KeyError> {
        let n_bytes = key.n().to_bytes_be();
        let e_bytes = key.e().to_bytes_be();
        let n = URL_SAFE_NO_PAD.encode(&n_bytes);
        let e = URL_SAFE_NO_PAD.encode(&e_bytes);
        let kid = rsa_thumbprint(&n, &e);
        let der = key.to_pkcs1_der().map_err(|e| KeyError::Encode(e.to_string()))?;
        Ok(SigningKey {
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            decoding: DecodingKey::from_rsa_raw_components(&n_bytes, &e_bytes),
            jwk: PublicJwk { kty: "RSA", use_: "sig", alg: "RS256", kid: kid.clone(), n, e },
            kid,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    pub fn jwk(&self) -> &PublicJwk {
        &self.jwk
    }
}

/// The RFC 7638 thumbprint of an RSA public key: base64url(SHA-256) of the
/// required members in lexicographic order, without whitespace.
fn rsa_thumbprint(n: &str, e: &str) -> String {
    // `n` and `e` are base64url, so they need no JSON escaping.
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// The provider's keys: all are published, the active one signs.
#[derive(Debug)]
pub struct KeySet {
    keys: Vec<SigningKey>,
    active: usize,
}

impl KeySet {
    /// A set of exactly one key (tests inject a pre-generated key this way).
    pub fn single(key: &RsaPrivateKey) -> Result<KeySet, KeyError> {
        Ok(KeySet { keys: vec![SigningKey::from_private_key(key)?], active: 0 })
    }

    /// Loads the keys under `data_dir`, generating the first one if there is none.
    pub fn load_or_generate(data_dir: &Path) -> Result<KeySet, KeyError> {
        KeySet::load_or_create(data_dir, generate_key)
    }

    /// Loads the keys under `data_dir`; if there is none, stores the key that
    /// `create` makes. Two processes starting together end up with the same
    /// key: the file appears atomically and only the first writer wins.
    pub fn load_or_create(
        data_dir: &Path,
        create: impl FnOnce() -> Result<RsaPrivateKey, KeyError>,
    ) -> Result<KeySet, KeyError> {
        let dir = data_dir.join(KEYS_DIR);
        create_private_dir(&dir)?;
        let mut files = key_files(&dir)?;
        if files.is_empty() {
            let key = create()?;
            let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| KeyError::Encode(e.to_string()))?;
            write_new_private_file(&dir.join(FIRST_KEY_FILE), pem.as_bytes())?;
            tracing::info!(path = %dir.join(FIRST_KEY_FILE).display(), "generated a new signing key");
            files = key_files(&dir)?;
        }
        let mut keys = Vec::with_capacity(files.len());
        for path in &files {
            keys.push(SigningKey::from_private_key(&read_key(path)?)?);
        }
        // `key_files` sorts by name, and names sort by age: the last is newest.
        let active = keys.len().saturating_sub(1);
        Ok(KeySet { keys, active })
    }

    /// The key that signs new tokens.
    pub fn active(&self) -> &SigningKey {
        &self.keys[self.active]
    }

    /// The key with this `kid`, for verifying tokens we issued.
    pub fn find(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|key| key.kid == kid)
    }

    /// The public keys, active first, as a JWKS.
    pub fn jwks(&self) -> Jwks {
        let active = std::iter::once(self.active());
        let others = self.keys.iter().enumerate().filter(|(i, _)| *i != self.active).map(|(_, key)| key);
        Jwks { keys: active.chain(others).map(|key| key.jwk.clone()).collect() }
    }
}

/// Generates a fresh RSA key from the operating system's random source.
pub fn generate_key() -> Result<RsaPrivateKey, KeyError> {
    RsaPrivateKey::new(&mut OsRng, KEY_BITS).map_err(|e| KeyError::Generate(e.to_string()))
}

/// The `*.pem` files of the key directory, sorted by name.
fn key_files(dir: &Path) -> Result<Vec<PathBuf>, KeyError> {
    let io_err = |source| KeyError::Io { action: "list", path: dir.to_owned(), source };
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err)? {
        let path = entry.map_err(io_err)?.path();
        if path.extension().is_some_and(|ext| ext == "pem") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn read_key(path: &Path) -> Result<RsaPrivateKey, KeyError> {
    warn_if_readable_by_others(path);
    let pem =
        fs::read_to_string(path).map_err(|source| KeyError::Io { action: "read", path: path.to_owned(), source })?;
    let key = RsaPrivateKey::from_pkcs8_pem(&pem)
        .map_err(|e| KeyError::Malformed { path: path.to_owned(), reason: e.to_string() })?;
    let bits = key.size() * 8;
    if bits < KEY_BITS {
        return Err(KeyError::TooSmall { path: path.to_owned(), bits });
    }
    Ok(key)
}

/// Creates the key directory (and its parents), private to the user.
fn create_private_dir(dir: &Path) -> Result<(), KeyError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| KeyError::Io { action: "create directory", path: dir.to_owned(), source })
}

/// Writes `contents` to `path` with mode 0600 unless `path` already exists.
///
/// The contents go to a private temporary file first and are then
/// hard-linked into place, which fails if another process got there first;
/// readers therefore never see a half-written key, and the first key wins.
fn write_new_private_file(path: &Path, contents: &[u8]) -> Result<(), KeyError> {
    let tmp = path.with_extension(format!("pem.tmp-{}", std::process::id()));
    let io_err = |action, source| KeyError::Io { action, path: path.to_owned(), source };
    {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(|e| io_err("create", e))?;
        file.write_all(contents).map_err(|e| io_err("write", e))?;
        file.sync_all().map_err(|e| io_err("sync", e))?;
    }
    let linked = fs::hard_link(&tmp, path);
    // The temporary name is ours alone; failing to remove it is harmless.
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_err("store", e)),
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "the signing key is readable by other users; chmod 600 it");
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        // The example key of RFC 7638 §3.1 and its published thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(rsa_thumbprint(n, "AQAB"), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }
}
