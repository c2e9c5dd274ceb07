//! The key directory, `{data dir}/keys/`: loading the keys from it, adding
//! the next one ([`rotate`]), and its [`fingerprint`], by which a running
//! provider notices a rotation (see `signing_keys::live`).
//!
//! See [the module above](super) for the file names and why they carry the
//! order and the activation time.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rsa::RsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;

use super::{KEY_BITS, KeyError, KeySet, SigningKey, generate_key};

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

impl KeySet {
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
/// providers pick the new key up by themselves (see `signing_keys::live`).
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
pub(crate) fn fingerprint(data_dir: &Path) -> Result<Fingerprint, KeyError> {
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
pub(crate) struct Fingerprint(Vec<(PathBuf, u64, Option<SystemTime>)>);

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

    /// A key directory whose first key, `a`, was retired at 1000 by `b`.
    fn rotated_once() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let [a, b, _] = test_keys();
        KeySet::load_or_create(dir.path(), || Ok(a.clone())).unwrap();
        rotate_to(dir.path(), b, 1000).unwrap();
        dir
    }

    #[test]
    fn retired_keys_are_published_for_the_retention_period_only() {
        let dir = rotated_once();
        let [a, b, _] = test_keys();
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
        let dir = rotated_once();
        let [a, _, c] = test_keys();
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
}
