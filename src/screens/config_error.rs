//! Shown when `/config.json` is missing or invalid: the app cannot start,
//! and says why instead of showing a blank page.

use leptos::prelude::*;

use crate::config::ConfigError;

/// The configuration error page.
#[component]
pub fn ConfigErrorScreen(
    /// What is wrong with the configuration.
    error: ConfigError,
) -> impl IntoView {
    view! {
        <main class="panel center error-page" data-testid="config-error" role="alert">
            <h1>"This app is not configured"</h1>
            <p>{error.to_string()}</p>
            <p class="muted">
                "The operator must serve a valid " <code>"/config.json"</code>
                " beside index.html (keys: issuer, client_id, permissions_claim; see the README)."
            </p>
        </main>
    }
}
