//! The signing keys and the JWKS that publishes them.
//!
//! Keys are RSA 2048 and live as PKCS#8 PEM files (mode 0600) in
//! `{data dir}/keys/`. The provider creates the first one, `0001.pem`, on its
//! first start and loads it afterwards, so a restart signs no one out.
//! `dev-idp rotate-key` ([`rotate`]) adds the next one, named
//! `{sequence}-{activated at}.pem` (`0002-1767225600.pem`): the sequence
//! orders the keys, and the time, in seconds since the Unix epoch, is when
//! the key became the signer, which is the moment its predecessor was
//! retired. Writing the name and the key in one atomic step means no
//! metadata file can disagree with the keys.
//!
//! The key set signs with the newest key. The JWKS publishes it and every
//! key retired less than a retention period ago (the token lifetime plus a
//! margin, see [`KeySet::published_jwks`]), so a token signed just before a
//! rotation keeps verifying until it expires. Retired keys stay loaded for
//! [`KeySet::find`], which checks logout `id_token_hint`s (accepted even
//! when expired), until [`rotate`] deletes them a week after retirement.
//!
//! Each key's `kid` is its RFC 7638 JWK thumbprint, so it is stable and
//! derived from the key alone.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

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
/// How long [`rotate`] keeps the file of a retired key: far beyond any
/// token's lifetime (at most a day), so only logout hints older than a week
/// stop verifying.
pub const KEEP_RETIRED_KEY_FILES_SECS: i64 = 7 * 24 * 3600;
/// How many sequence numbers [`rotate`] tries when other rotations race it.
const ROTATE_ATTEMPTS: u32 = 16;

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
    #[error("{0} holds no signing key")]
    NoKeys(PathBuf),
    #[error("cannot find a free file name for a new key in {0}; is another rotation running?")]
    NoFreeName(PathBuf),
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
    /// When a newer key replaced this one as the signer (seconds since the
    /// Unix epoch); `None` for the active key, or when that time is unknown.
    retired_at: Option<i64>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material, not even by accident in a log line.
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
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
            retired_at: None,
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

    /// When this key stopped signing, if it has and that is known.
    pub fn retired_at(&self) -> Option<i64> {
        self.retired_at
    }
}

/// The RFC 7638 thumbprint of an RSA public key: base64url(SHA-256) of the
/// required members in lexicographic order, without whitespace.
fn rsa_thumbprint(n: &str, e: &str) -> String {
    // `n` and `e` are base64url, so they need no JSON escaping.
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// The provider's keys: the newest (active) one signs; it and the keys
/// retired recently are published ([`KeySet::published_jwks`]).
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
        ensure_first_key(data_dir, create)?;
        KeySet::load(data_dir)
    }

    /// Loads the keys under `data_dir`, which must hold at least one.
    pub fn load(data_dir: &Path) -> Result<KeySet, KeyError> {
        let dir = data_dir.join(KEYS_DIR);
        let files = key_files(&dir)?;
        if files.is_empty() {
            return Err(KeyError::NoKeys(dir));
        }
        let mut keys = Vec::with_capacity(files.len());
        for file in &files {
            keys.push(SigningKey::from_private_key(&read_key(&file.path)?)?);
        }
        // A key was retired when the next one took over.
        for (key, next) in keys.iter_mut().zip(files.iter().skip(1)) {
            key.retired_at = next.activated_at();
        }
        // `key_files` sorts oldest first: the last one signs.
        let active = keys.len() - 1;
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

    /// Every key loaded, active first, as a JWKS.
    pub fn jwks(&self) -> Jwks {
        Jwks { keys: self.active_first().map(|key| key.jwk.clone()).collect() }
    }

    /// The JWKS to publish at `now`: the active key, and every key retired
    /// less than `retention_secs` ago or at an unknown time. The active key
    /// is always there, whatever the clocks say.
    pub fn published_jwks(&self, now: i64, retention_secs: i64) -> Jwks {
        let keys = self
            .active_first()
            .enumerate()
            .filter(|(index, key)| {
                *index == 0 || key.retired_at.is_none_or(|retired| now < retired.saturating_add(retention_secs))
            })
            .map(|(_, key)| key.jwk.clone())
            .collect();
        Jwks { keys }
    }

    /// The keys, the active one first and the others newest first.
    fn active_first(&self) -> impl Iterator<Item = &SigningKey> {
        let others = self.keys.iter().enumerate().rev().filter(|(i, _)| *i != self.active).map(|(_, key)| key);
        std::iter::once(self.active()).chain(others)
    }

    /// How many keys are loaded.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always false: a key set has an active key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// A key that [`rotate`] added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    /// The new key's `kid`.
    pub kid: String,
    /// Its file.
    pub path: PathBuf,
    /// Files of keys retired more than [`KEEP_RETIRED_KEY_FILES_SECS`] ago,
    /// now deleted.
    pub deleted: Vec<PathBuf>,
}

/// Adds a freshly generated key to `data_dir`, as the next signer: see [`rotate_to`].
pub fn rotate(data_dir: &Path, now: i64) -> Result<Rotated, KeyError> {
    rotate_to(data_dir, &generate_key()?, now)
}

/// Adds `key` to `data_dir` as the next signer, activated at `now`, and
/// deletes the files of keys retired more than
/// [`KEEP_RETIRED_KEY_FILES_SECS`] ago (never the newest one's). Running
/// providers pick the new key up by themselves (see [`crate::keyring`]).
///
/// The file appears atomically under a name no other key has: a rotation
/// racing another one takes the next sequence number.
pub fn rotate_to(data_dir: &Path, key: &RsaPrivateKey, now: i64) -> Result<Rotated, KeyError> {
    let dir = data_dir.join(KEYS_DIR);
    create_private_dir(&dir)?;
    let signing = SigningKey::from_private_key(key)?;
    let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| KeyError::Encode(e.to_string()))?;
    let mut sequence = key_files(&dir)?.iter().map(|file| file.sequence).max().unwrap_or(0);
    let path = 'claim: {
        for _ in 0..ROTATE_ATTEMPTS {
            sequence += 1;
            // Another rotation may have claimed this number under another time.
            if key_files(&dir)?.iter().any(|file| file.sequence == sequence) {
                continue;
            }
            let path = dir.join(format!("{sequence:04}-{now}.pem"));
            if write_new_private_file(&path, pem.as_bytes())? {
                break 'claim path;
            }
        }
        return Err(KeyError::NoFreeName(dir));
    };
    tracing::info!(path = %path.display(), kid = signing.kid(), "added a new signing key");
    let deleted = delete_old_key_files(&dir, now)?;
    Ok(Rotated { kid: signing.kid().to_owned(), path, deleted })
}

/// Deletes the files of keys retired more than [`KEEP_RETIRED_KEY_FILES_SECS`]
/// before `now`. The newest key is never retired, so never deleted.
fn delete_old_key_files(dir: &Path, now: i64) -> Result<Vec<PathBuf>, KeyError> {
    let files = key_files(dir)?;
    let mut deleted = Vec::new();
    for (file, next) in files.iter().zip(files.iter().skip(1)) {
        let Some(retired_at) = next.activated_at() else { continue };
        if now.saturating_sub(retired_at) > KEEP_RETIRED_KEY_FILES_SECS {
            match fs::remove_file(&file.path) {
                Ok(()) => deleted.push(file.path.clone()),
                // Another rotation deleted it first.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => return Err(KeyError::Io { action: "delete", path: file.path.clone(), source }),
            }
        }
    }
    for path in &deleted {
        tracing::info!(path = %path.display(), "deleted a long-retired signing key");
    }
    Ok(deleted)
}

/// Stores the key `create` makes as the first key, unless there is a key already.
fn ensure_first_key(data_dir: &Path, create: impl FnOnce() -> Result<RsaPrivateKey, KeyError>) -> Result<(), KeyError> {
    let dir = data_dir.join(KEYS_DIR);
    create_private_dir(&dir)?;
    if !key_files(&dir)?.is_empty() {
        return Ok(());
    }
    let key = create()?;
    let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| KeyError::Encode(e.to_string()))?;
    let path = dir.join(FIRST_KEY_FILE);
    // Losing the race to another process is fine: its key is as good.
    if write_new_private_file(&path, pem.as_bytes())? {
        tracing::info!(path = %path.display(), "generated a new signing key");
    }
    Ok(())
}

/// Generates a fresh RSA key from the operating system's random source.
pub fn generate_key() -> Result<RsaPrivateKey, KeyError> {
    RsaPrivateKey::new(&mut OsRng, KEY_BITS).map_err(|e| KeyError::Generate(e.to_string()))
}

/// A key file, as its name describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeyFile {
    path: PathBuf,
    sequence: u64,
    /// The time in the name (`{sequence}-{time}.pem`), if it has one.
    named_activation: Option<i64>,
}

impl KeyFile {
    /// Parses `{sequence}.pem` or `{sequence}-{activated at}.pem`.
    fn parse(path: PathBuf) -> Option<KeyFile> {
        let stem = path.file_name()?.to_str()?.strip_suffix(".pem")?;
        let (sequence, activation) = match stem.split_once('-') {
            Some((sequence, time)) => (sequence, Some(time)),
            None => (stem, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(sequence) || !activation.is_none_or(digits) {
            return None;
        }
        let sequence = sequence.parse().ok()?;
        let named_activation = match activation {
            Some(time) => Some(time.parse().ok()?),
            None => None,
        };
        Some(KeyFile { path, sequence, named_activation })
    }

    /// When this key became the signer: the time in its name or, for a file
    /// named without one (placed by hand), its modification time.
    fn activated_at(&self) -> Option<i64> {
        self.named_activation.or_else(|| {
            let modified = fs::metadata(&self.path).and_then(|meta| meta.modified()).ok()?;
            modified.duration_since(UNIX_EPOCH).ok().and_then(|age| i64::try_from(age.as_secs()).ok())
        })
    }
}

/// The key files of the key directory, oldest first: by sequence number,
/// then by activation time (a key without one first), then by name. Other
/// `*.pem` files are skipped with a warning.
fn key_files(dir: &Path) -> Result<Vec<KeyFile>, KeyError> {
    let io_err = |source| KeyError::Io { action: "list", path: dir.to_owned(), source };
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err)? {
        let path = entry.map_err(io_err)?.path();
        let is_pem = path.extension().is_some_and(|ext| ext == "pem");
        if !is_pem || !path.is_file() {
            continue;
        }
        match KeyFile::parse(path.clone()) {
            Some(file) => files.push(file),
            None => tracing::warn!(
                path = %path.display(),
                "ignoring a key file not named NNNN.pem or NNNN-SECONDS.pem"
            ),
        }
    }
    files.sort_by(|a, b| (a.sequence, a.named_activation, &a.path).cmp(&(b.sequence, b.named_activation, &b.path)));
    Ok(files)
}

/// What identifies the key directory's current contents: each key file's
/// name, size and modification time. Listing it costs one `stat` per key,
/// which is what makes checking for a rotation every second cheap.
pub fn fingerprint(data_dir: &Path) -> Result<Fingerprint, KeyError> {
    let dir = data_dir.join(KEYS_DIR);
    let mut entries = Vec::new();
    for file in key_files(&dir)? {
        let meta = fs::metadata(&file.path).map_err(|source| KeyError::Io {
            action: "inspect",
            path: file.path.clone(),
            source,
        })?;
        entries.push((file.path, meta.len(), meta.modified().ok()));
    }
    Ok(Fingerprint(entries))
}

/// See [`fingerprint`]; equal fingerprints mean the same keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fingerprint(Vec<(PathBuf, u64, Option<SystemTime>)>);

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

/// Writes `contents` to `path` with mode 0600 unless `path` already exists;
/// returns whether it wrote the file.
///
/// The contents go to a private temporary file first and are then
/// hard-linked into place, which fails if another process got there first;
/// readers therefore never see a half-written key, and the first key wins.
fn write_new_private_file(path: &Path, contents: &[u8]) -> Result<bool, KeyError> {
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
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
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
    use std::sync::OnceLock;

    use super::*;

    /// Three keys per test binary: generating them is the slow part.
    fn test_keys() -> &'static [RsaPrivateKey; 3] {
        static KEYS: OnceLock<[RsaPrivateKey; 3]> = OnceLock::new();
        KEYS.get_or_init(|| [(); 3].map(|()| generate_key().expect("key generation")))
    }

    fn kid(key: &RsaPrivateKey) -> String {
        SigningKey::from_private_key(key).unwrap().kid().to_owned()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir.join(KEYS_DIR))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn key_file_names_carry_order_and_activation() {
        let parse = |name: &str| KeyFile::parse(PathBuf::from(format!("/k/{name}")));
        let first = parse("0001.pem").unwrap();
        assert_eq!((first.sequence, first.named_activation), (1, None));
        let later = parse("0012-1767225600.pem").unwrap();
        assert_eq!((later.sequence, later.named_activation), (12, Some(1_767_225_600)));
        assert_eq!(later.activated_at(), Some(1_767_225_600));
        for bad in ["key.pem", "0001-.pem", "-5.pem", "0001-12a.pem", "0001.pem.tmp-42", "0002-1-2.pem", ".pem"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn rotation_adds_the_next_signer_and_retires_the_previous_one() {
        let dir = tempfile::tempdir().unwrap();
        let [a, b, c] = test_keys();
        let first = KeySet::load_or_create(dir.path(), || Ok(a.clone())).unwrap();
        assert_eq!(first.active().kid(), kid(a));

        let rotated = rotate_to(dir.path(), b, 1000).unwrap();
        assert_eq!(rotated.kid, kid(b));
        assert_eq!(rotated.path, dir.path().join("keys/0002-1000.pem"));
        assert!(rotated.deleted.is_empty());
        // Another rotation in the same second still gets its own file.
        rotate_to(dir.path(), c, 1000).unwrap();
        assert_eq!(names(dir.path()), ["0001.pem", "0002-1000.pem", "0003-1000.pem"]);

        let keys = KeySet::load(dir.path()).unwrap();
        assert_eq!(keys.active().kid(), kid(c));
        assert_eq!(keys.active().retired_at(), None);
        assert_eq!(keys.find(&kid(a)).unwrap().retired_at(), Some(1000));
        assert_eq!(keys.find(&kid(b)).unwrap().retired_at(), Some(1000));
        let all: Vec<_> = keys.jwks().keys.into_iter().map(|k| k.kid).collect();
        assert_eq!(all, [kid(c), kid(b), kid(a)], "active first, then newest first");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&rotated.path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn retired_keys_are_published_for_the_retention_period_only() {
        let dir = tempfile::tempdir().unwrap();
        let [a, b, _] = test_keys();
        KeySet::load_or_create(dir.path(), || Ok(a.clone())).unwrap();
        rotate_to(dir.path(), b, 1000).unwrap();
        let keys = KeySet::load(dir.path()).unwrap();
        let published = |now| keys.published_jwks(now, 600).keys.into_iter().map(|k| k.kid).collect::<Vec<_>>();
        assert_eq!(published(1000), [kid(b), kid(a)]);
        assert_eq!(published(1599), [kid(b), kid(a)]);
        assert_eq!(published(1600), [kid(b)]);
        // The active key is published whatever the clock says.
        assert_eq!(published(i64::MAX), [kid(b)]);
        // Retired keys still check logout hints.
        assert!(keys.find(&kid(a)).is_some());
    }

    #[test]
    fn rotation_deletes_keys_retired_over_a_week_ago_but_never_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let [a, b, c] = test_keys();
        KeySet::load_or_create(dir.path(), || Ok(a.clone())).unwrap();
        rotate_to(dir.path(), b, 1000).unwrap();
        // `a` was retired at 1000; a week and a second later it goes.
        let week = KEEP_RETIRED_KEY_FILES_SECS;
        let rotated = rotate_to(dir.path(), c, 1000 + week + 1).unwrap();
        assert_eq!(rotated.deleted, [dir.path().join("keys/0001.pem")]);
        let third = format!("0003-{}.pem", 1000 + week + 1);
        assert_eq!(names(dir.path()), ["0002-1000.pem".to_owned(), third.clone()]);
        // `b` was retired only now: kept, and the newest is never touched.
        let much_later = rotate_to(dir.path(), a, i64::MAX / 2).unwrap();
        assert_eq!(much_later.deleted, [dir.path().join("keys/0002-1000.pem")]);
        let keys = KeySet::load(dir.path()).unwrap();
        assert_eq!(keys.active().kid(), kid(a));
        assert_eq!(keys.len(), 2, "{:?}", names(dir.path()));
    }

    #[test]
    fn stray_files_are_ignored_and_an_empty_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(KEYS_DIR)).unwrap();
        assert!(matches!(KeySet::load(dir.path()), Err(KeyError::NoKeys(_))));
        fs::write(dir.path().join("keys/backup.pem"), "not a key").unwrap();
        let [a, _, _] = test_keys();
        let keys = KeySet::load_or_create(dir.path(), || Ok(a.clone())).unwrap();
        assert_eq!((keys.len(), keys.active().kid()), (1, kid(a).as_str()));
    }

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        // The example key of RFC 7638 §3.1 and its published thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(rsa_thumbprint(n, "AQAB"), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }
}
