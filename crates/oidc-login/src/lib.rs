//! The OIDC login module: authorization code flow with PKCE (S256) for a
//! public browser client, against any standard OpenID Provider.
//!
//! Layout: the pure parts (settings, discovery metadata, the authorization
//! request, the callback, ID-token claim checks) compile and are tested
//! natively; the browser parts ([`browser`]: randomness, SHA-256, storage,
//! fetch, redirects) use Web APIs and are tested in headless Chromium.
//! [`client::OidcClient`] ties them together.
//!
//! ID tokens are verified in full (OIDC Core §3.1.3.7): the signature with
//! WebCrypto against the provider's JWKS ([`jwks`], [`signature`]), then the
//! claims ([`id_token`]); refreshed ones also against §12.2 ([`refresh`]).
//! Access and ID tokens live in memory only; the refresh token is shared by
//! the app's tabs under a Web Lock ([`locks`]); sign-in and sign-out reach
//! the other tabs over a BroadcastChannel ([`tabs`]). The access token is
//! handed to the API and never interpreted here.

pub mod authorize;
mod b64;
pub mod browser;
pub mod callback;
pub mod claims_cache;
pub mod client;
pub mod discovery;
pub mod dpop;
pub mod error;
pub mod id_token;
pub mod json;
pub mod jwks;
pub mod locks;
pub mod provider_cache;
pub mod refresh;
pub mod settings;
pub mod signature;
pub mod tabs;
pub mod urls;

pub use authorize::Prompt;
pub use browser::HistoryEntry;
pub use claims_cache::RememberedClaims;
pub use client::{ApiCredentials, OidcClient, Session};
pub use dpop::{DpopKey, DpopMode};
pub use error::LoginError;
pub use settings::ClientSettings;
pub use signature::ProviderKeys;

/// The property-test runner of `cargo xtask fuzz`, for the `fuzz` modules of the private parts (`b64`,
/// `claims_cache`); it is shared with the other crates' fuzz tests.
#[cfg(all(test, not(target_arch = "wasm32")))]
#[allow(dead_code)]
#[path = "../../permissions/tests/fuzz/harness.rs"]
mod fuzz_harness;
