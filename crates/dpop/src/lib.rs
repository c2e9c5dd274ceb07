//! Verification of DPoP proofs (RFC 9449, "OAuth 2.0 Demonstrating Proof of
//! Possession"), shared by the API and the development provider.
//!
//! A DPoP client holds a key pair (in this project a non-extractable
//! WebCrypto P-256 key) and sends, with each request, a *proof*: a compact
//! JWS of `typ: dpop+jwt` whose header carries the public key (`jwk`) and
//! whose claims name the request (`htm`, `htu`), the time (`iat`), a unique
//! id (`jti`) and, at a resource server, the hash of the access token
//! (`ath`). The provider binds the tokens it issues to the key's thumbprint
//! (`cnf.jkt`), so a stolen token is useless without the private key.
//!
//! * [`proof`]: [`verify`], the checks of one proof against what the server
//!   expects of it ([`Expected`], [`Window`]), and [`ath`];
//! * [`jwk`]: the proof's public key: refusing private keys, building a
//!   verification key that fits `alg`, and [`thumbprint`] (RFC 7638);
//! * [`htu`]: [`normalize_htu`], the URL comparison of RFC 9449 §4.3;
//! * [`replay`]: [`ReplayCache`], the bounded memory of proofs already used;
//! * [`nonce`]: [`Nonces`], stateless server nonces (RFC 9449 §8 and §9);
//! * [`error`]: [`ProofError`], one variant per defect, with its RFC 9449
//!   error code and a fixed description;
//! * `test_key` (feature `test-key`, and this crate's tests): `TestKey`,
//!   a client's key that signs proofs, for the tests and the bench of the
//!   crates that verify them.
//!
//! Everything here is pure and synchronous: no I/O, no clock (callers pass
//! `now`), so the checks are the same in tests as in production. Malformed
//! input is an error, never a panic.
//!
//! What verification does *not* do, because it needs the caller's context:
//! compare the proof's key with the token's `cnf.jkt` (the caller has the
//! token; [`ProofError::Jkt`] is its error), and remember the `jti` (the
//! caller owns the [`ReplayCache`], and inserts only proofs that passed
//! every other check, so that invalid proofs cannot fill it).

pub mod error;
pub mod htu;
pub mod jwk;
pub mod nonce;
pub mod proof;
pub mod replay;
#[cfg(any(test, feature = "test-key"))]
pub mod test_key;

pub use error::ProofError;
pub use htu::{InvalidUrl, normalize_htu};
pub use jwk::thumbprint;
pub use nonce::Nonces;
pub use proof::{Expected, MAX_JTI_BYTES, MAX_PROOF_BYTES, Proof, SIGNING_ALGS, Window, ath, single_proof, verify};
pub use replay::ReplayCache;

/// The request header that carries the proof (RFC 9449 §4.1).
pub const DPOP_HEADER: &str = "DPoP";
/// The response header that carries a server nonce (RFC 9449 §8.1).
pub const DPOP_NONCE_HEADER: &str = "DPoP-Nonce";
/// The authorization scheme of DPoP-bound access tokens (RFC 9449 §7.1).
pub const SCHEME: &str = "DPoP";
/// The `typ` every proof's header must carry (RFC 9449 §4.2).
pub const PROOF_TYP: &str = "dpop+jwt";
