//! Authentication and authorisation of API requests with the issuer's
//! access tokens.
//!
//! * [`issuer`]: the configured issuer and its discovery URL;
//! * [`jwk`]: one published key read into a verification key;
//! * [`key_set`]: a loaded set of keys and how a token selects one;
//! * [`key_store`]: discovery, the JWKS fetch, and the cached, rate-limited,
//!   single-flight key store;
//! * [`validate`]: the token checks, from compact JWT to [`Principal`];
//! * [`extract`]: the access token of a request (`Bearer` or `DPoP`) and the
//!   [`Authenticated`] extractor, with [`Authenticated::require`] for
//!   per-route permissions;
//! * [`dpop`]: DPoP-bound tokens' proofs (RFC 9449), and [`DpopPolicy`],
//!   how the API treats them (required or not, nonces, its public URL);
//! * [`subject`]: which user of the store, if any, a token's `sub` names.
//!
//! Permissions are read only through the `permissions` crate.

mod cache;
pub mod dpop;
pub mod extract;
pub mod issuer;
pub mod jwk;
pub mod key_set;
pub mod key_store;
mod rejection;
pub mod validate;

pub use self::dpop::{DpopPolicy, PublicUrl};
pub use extract::{Authenticated, Credentials, bearer_token, credentials};
pub use issuer::{Issuer, IssuerError};
pub use jwk::{ALLOWED_ALGORITHMS, VerificationKey};
pub use key_set::{JwksError, KeyMiss, KeySet};
pub use key_store::{DEFAULT_FETCH_TIMEOUT, FetchError, KeyStore, RefreshOptions};
pub use rejection::Rejection;
pub use store::store_user_id;
pub use validate::{AuthError, MAX_TOKEN_BYTES, Principal, TokenTypes, Verifier, VerifierConfig};
