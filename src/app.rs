//! The root component: start-up, then the shell (header, routes).

use contract::routes;
use leptos::prelude::*;

use crate::auth::{self, Arrival, Auth, Startup};
use crate::capabilities::provide_capabilities;
use crate::components::header::Header;
use crate::components::inspector::{Inspector, provide_inspector};
use crate::config::{AppConfig, ConfigError};
use crate::load::Loader;
use crate::location::{provide_location, use_location};
use crate::routes::AppRoutes;
use crate::screens::auth_error::AuthErrorBanner;
use crate::screens::config_error::ConfigErrorScreen;

/// Start-up: the configuration, then authentication; on `/callback`, the
/// callback's code downloads beside them.
async fn start() -> Result<(AppConfig, Startup), ConfigError> {
    if window().location().pathname().is_ok_and(|path| path == routes::CALLBACK) {
        auth::preload_callback_code();
    }
    let config = AppConfig::load().await?;
    let startup = auth::start(config.client.clone()).await;
    Ok((config, startup))
}

/// The app: reads `/config.json`, settles authentication (finishing a
/// sign-in on `/callback`), then mounts the router. Nothing permission-bound
/// renders before that, so nothing flashes.
#[component]
pub fn App() -> impl IntoView {
    let started = Loader::new(start);
    move || match started.get() {
        None | Some(Ok((_, Startup::Redirecting))) => view! { <Splash /> }.into_any(),
        Some(Err(error)) => view! { <ConfigErrorScreen error /> }.into_any(),
        Some(Ok((config, Startup::Ready(auth, arrival)))) => view! { <Shell config auth arrival /> }.into_any(),
    }
}

/// Shown while starting.
#[component]
fn Splash() -> impl IntoView {
    view! {
        <div class="splash" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            "Loading…"
        </div>
    }
}

/// The signed-in or signed-out app around the routes.
#[component]
fn Shell(
    /// The validated `/config.json`.
    config: AppConfig,
    /// The auth context start-up made.
    auth: Auth,
    /// What start-up has to tell the other tabs.
    arrival: Arrival,
) -> impl IntoView {
    provide_context(auth);
    provide_context(config.clone());
    auth.keep_alive(arrival);
    crate::api::provide_api(auth, &config);
    provide_capabilities(config.clone());
    provide_inspector();
    provide_location();
    view! {
        <FocusOnNavigate />
        <Header />
        <main id="main" tabindex="-1">
            <AuthErrorBanner />
            <AppRoutes />
        </main>
        <footer class="footer">
            <Inspector />
        </footer>
    }
}

/// Moves keyboard focus to the main region after each client-side
/// navigation, so screen-reader and keyboard users start at the new content
/// (the browser does this for full page loads, not for route changes).
#[component]
fn FocusOnNavigate() -> impl IntoView {
    let location = use_location();
    Effect::new(move |previous: Option<String>| {
        let path = location.path.get();
        if previous.is_some_and(|p| p != path)
            && let Some(main) = document().get_element_by_id("main")
        {
            use wasm_bindgen::JsCast;
            let _ = main.unchecked_into::<web_sys::HtmlElement>().focus();
        }
        path
    });
}
