//! End-to-end test harness for the permission SPA.
//!
//! A [`Harness`] reproduces, per test and on free ports, the deployment the SPA expects: the development
//! OpenID Provider (`dev-idp`) and the `api` with their own temporary SQLite database, and one origin that
//! serves the built SPA, answers `/config.json` with a configuration the test chooses and proxies `/api/*` to
//! the api. A [`Browser`] is a fresh headless Chromium session (behind its own chromedriver) pointed at that
//! origin, with helpers that address the SPA through its `data-testid` hooks.
//!
//! Every process the harness starts is killed, with its whole process group, when its owner is dropped —
//! also when a test panics — and the kernel kills it if the test binary itself dies (see [`process`]).
//!
//! The harness is configured through environment variables (see [`Settings`]); `cargo xtask test e2e` sets
//! them, builds the SPA and the binaries first, and runs the tests one at a time.

pub mod browser;
pub mod harness;
pub mod oauth;
pub mod ports;
pub mod process;
pub mod screenshots;
pub mod settings;
pub mod spa_server;

mod backend;

pub use browser::{Browser, NavigationEntry, Tab};
pub use harness::{Harness, HarnessBuilder, TokenAnswer};
pub use oauth::{ApiAnswer, TokenSet};
pub use settings::Settings;
pub use spa_server::SpaConfig;

/// The API audience the dev provider issues access tokens for and the api accepts (the shared name).
pub use permissions::names::API_AUDIENCE as AUDIENCE;

/// The SPA's public client id at the dev provider (the shared name).
pub use permissions::names::CLIENT_ID;

/// The ID-token claim that carries the user's permissions (the shared name).
pub use permissions::names::PERMISSIONS_CLAIM;

/// The SPA-origin path of an API route: `path` below the API's default base (`/users` → `/api/v1/users`), as
/// the SPA calls it through its origin's `/api` proxy. Take `path` from [`contract::api`].
pub fn api_path(path: &str) -> String {
    format!("{}{path}", contract::api::DEFAULT_BASE)
}
